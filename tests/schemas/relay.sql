-- "relay": jobs relayed to a crew through two queues. Apply harness.rules.sql.platform() first
-- (Supabase's auth schema).
--
-- - jobs (the sessions) with an enum phase; no updated time, no booked time;
-- - mechanics are rows of relay.crew, linked to sign-in users (login, set null);
-- - tickets: the legacy requests, linked to their customer only (no session column), taken by a
--   crew member;
-- - offers: a queue keyed by job (no customer column), with words of its own and a required
--   region (no default), offered to a crew member;
-- - children: a job's log (cascade); an offer's views (cascade) and payouts (set null).

create schema relay;

create type relay.job_phase as enum ('draft', 'posted', 'working', 'done', 'void');

create table relay.crew (
    crew_id uuid primary key default gen_random_uuid(),
    contact_email text not null unique,
    login uuid references auth.users on delete set null
);

create table relay.jobs (
    job_id uuid primary key default gen_random_uuid(),
    owner uuid not null references auth.users,
    crew_member uuid references relay.crew,
    phase relay.job_phase not null default 'draft',
    started timestamptz not null default now(),
    finished timestamptz
);

create table relay.tickets (
    ticket_id uuid primary key default gen_random_uuid(),
    customer uuid not null references auth.users,
    handler uuid references relay.crew,
    status text not null default 'new' check (status in ('new', 'taken', 'timed_out', 'withdrawn')),
    raised timestamptz not null default now()
);

create table relay.offers (
    offer_id uuid primary key default gen_random_uuid(),
    job uuid not null references relay.jobs on delete cascade,
    crew uuid references relay.crew,
    word text not null default 'posted'
        check (word in ('posted', 'seen', 'claimed', 'finished', 'passed', 'lapsed', 'pulled')),
    sent_at timestamptz not null default now(),
    region varchar(40) not null
);

create table relay.job_log (
    entry_id bigint generated always as identity primary key,
    job uuid not null references relay.jobs on delete cascade,
    line text not null default ''
);

create table relay.offer_views (
    view_id bigint generated always as identity primary key,
    offer uuid not null references relay.offers on delete cascade,
    viewer uuid references relay.crew
);

create table relay.payouts (
    payout_id uuid primary key default gen_random_uuid(),
    offer uuid references relay.offers on delete set null,
    amount_cents integer not null default 0
);
