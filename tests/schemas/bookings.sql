-- "bookings": video consultations with experts, on demand or booked for later. Apply
-- harness.rules.sql.platform() first (Supabase's auth schema). What `pitstop inspect
-- --propose` must read without a destructive guess (tests/test_inspect.py):
--
-- - sessions in schema care, an enum status whose words mean more than waiting or
--   done: scheduled (booked for later, see scheduled_for), pending and searching
--   (waiting for an expert; searching is the default), accepted (an expert took it),
--   live, reconnecting (a live call that lost its connection for a moment),
--   completed and cancelled;
-- - requests keep two keys to the sessions: session_id (the request's own session)
--   and parent_session_id (the session a follow-up continues), whose constraint
--   comes first by name;
-- - customers and experts are sign-in users; no child tables.

create schema care;

create type care.visit_status as enum (
    'scheduled', 'pending', 'searching', 'accepted', 'live', 'reconnecting', 'completed', 'cancelled'
);

create table care.video_sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    expert_id uuid references auth.users,
    status care.visit_status not null default 'searching',
    scheduled_for timestamptz,
    created_at timestamptz not null default now(),
    ended_at timestamptz,
    updated_at timestamptz not null default now()
);

create table care.expert_requests (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    expert_id uuid references auth.users,
    parent_session_id uuid references care.video_sessions on delete set null,
    session_id uuid references care.video_sessions on delete cascade,
    status text not null default 'pending' check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    created_at timestamptz not null default now()
);
