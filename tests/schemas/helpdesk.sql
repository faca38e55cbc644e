-- "helpdesk": calls in schema desk, agents (the mechanics) are sign-in users.
-- Apply harness.rules.sql.platform() first (Supabase's auth schema).
--
-- - calls (the sessions): the status is a varchar with a check constraint;
-- - call requests point at their call (requests.session), with free-text
--   statuses;
-- - agents are auth.users (calls.agent and call_requests.taken_by reference
--   them);
-- - children: transcripts (cascade), their lines (no action, depth two; a line
--   may reply to another line, of any call: a self-reference), ratings that
--   outlive their call (set null) and hold a user id with no foreign key
--   (rated_by), escalations of a request (no action) and their follow-ups,
--   which outlive them (set null, depth two).

create schema desk;

create table desk.calls (
    call_id uuid primary key default gen_random_uuid(),
    caller uuid not null references auth.users,
    agent uuid references auth.users,
    call_status varchar(16) not null default 'ringing'
        check (call_status in ('ringing', 'on_hold', 'connected', 'resolved', 'dropped')),
    started timestamptz not null default now(),
    finished timestamptz,
    modified timestamptz
);

create table desk.call_requests (
    req_id uuid primary key default gen_random_uuid(),
    asker uuid not null references auth.users,
    call_id uuid references desk.calls,
    req_status text not null default 'new',
    asked_at timestamptz not null default now(),
    taken_by uuid references auth.users
);

create table desk.transcripts (
    transcript_id uuid primary key default gen_random_uuid(),
    call uuid not null references desk.calls on delete cascade,
    language text not null default 'en'
);

create table desk.transcript_lines (
    line_id uuid primary key default gen_random_uuid(),
    transcript uuid not null references desk.transcripts,
    reply_to uuid references desk.transcript_lines,
    spoken text not null default 'hello'
);

create table desk.ratings (
    rating_id uuid primary key default gen_random_uuid(),
    call uuid references desk.calls on delete set null,
    rated_by uuid not null,
    stars integer not null default 5
);

create table desk.escalations (
    escalation_id uuid primary key default gen_random_uuid(),
    request uuid not null references desk.call_requests,
    reason text not null default 'slow'
);

create table desk.escalation_followups (
    followup_id uuid primary key default gen_random_uuid(),
    escalation uuid references desk.escalations on delete set null,
    outcome text not null default 'called back'
);
