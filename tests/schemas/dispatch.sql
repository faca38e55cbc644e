-- "dispatch": an app whose rows need more than the model names. Apply
-- harness.rules.sql.platform() first (Supabase's auth schema).
--
-- - visits (the sessions) and callouts (the requests, pointing at their
--   visit) have NOT NULL columns without a default that the model does not
--   name, of several types: a unique payment reference (text), an enum visit
--   kind, a check-constrained priority, jsonb details, an integer fee, a
--   domain over integer, a timestamptz, a varchar(10), numeric, smallint,
--   boolean, date and text[] columns; a callout's requester refers to a
--   sign-in user;
-- - both refer to a depot (NOT NULL, no default): a row pitstop cannot make,
--   so it is declared (dispatch.toml), the depot the migration makes;
-- - mechanics are rows of dispatch.fleet linked to sign-in users (account);
-- - participants: visit_crew, one row per user of a visit with its role (a
--   check constraint) and more required columns;
-- - a queue: assignments keyed by visit (no customer column), cascading;
-- - an events table filled by a trigger on every new visit.

create schema dispatch;

create type dispatch.visit_kind as enum ('remote', 'onsite', 'workshop');
create type dispatch.callout_phase as enum ('raised', 'taken', 'lapsed', 'dropped');
create domain dispatch.cents as integer check (value >= 0);

create table dispatch.depots (
    depot_id uuid primary key default gen_random_uuid(),
    name text not null
);
insert into dispatch.depots (depot_id, name) values ('0d0e0000-0000-4000-8000-000000000001', 'North');

create table dispatch.fleet (
    fleet_id uuid primary key default gen_random_uuid(),
    email text not null unique,
    account uuid references auth.users on delete set null
);

create table dispatch.visits (
    visit_id uuid primary key default gen_random_uuid(),
    client uuid not null references auth.users,
    driver uuid references dispatch.fleet,
    stage text not null check (stage in ('quoted', 'booked', 'on_site', 'closed', 'scrapped')),
    logged_at timestamptz not null default now(),
    closed_at timestamptz,
    payment_ref text not null unique,
    kind dispatch.visit_kind not null,
    priority text not null check (priority in ('normal', 'urgent')),
    details jsonb not null,
    fee_cents integer not null check (fee_cents >= 0),
    tip dispatch.cents not null,
    window_start timestamptz not null,
    ref_code varchar(10) not null unique,
    depot uuid not null references dispatch.depots
);

create table dispatch.callouts (
    callout_id uuid primary key default gen_random_uuid(),
    visit uuid references dispatch.visits on delete cascade,
    caller uuid not null references auth.users,
    taken_by uuid references dispatch.fleet,
    phase dispatch.callout_phase not null default 'raised',
    raised_at timestamptz not null default now(),
    channel text not null check (channel in ('app', 'phone')),
    region varchar(64) not null,
    distance_km numeric(8, 2) not null,
    attempts smallint not null,
    urgent boolean not null,
    wanted_on date not null,
    tags text[] not null,
    requested_by uuid not null references auth.users,
    depot uuid not null references dispatch.depots
);

create table dispatch.visit_crew (
    visit uuid not null references dispatch.visits on delete cascade,
    person uuid not null references auth.users,
    role text not null check (role in ('customer', 'mechanic', 'observer')),
    joined_at timestamptz not null,
    seat smallint not null,
    primary key (visit, person)
);

create table dispatch.assignments (
    assignment_id uuid primary key default gen_random_uuid(),
    visit_id uuid not null references dispatch.visits on delete cascade,
    state text not null default 'open' check (state in ('open', 'offered', 'done')),
    queued_at timestamptz not null default now()
);

create table dispatch.visit_events (
    event_id bigint generated always as identity primary key,
    visit uuid not null references dispatch.visits on delete cascade,
    what text not null,
    at timestamptz not null default now()
);

create function dispatch.log_visit() returns trigger language plpgsql as $$
begin
    insert into dispatch.visit_events (visit, what) values (new.visit_id, 'created');
    return new;
end;
$$;
create trigger visits_logged after insert on dispatch.visits for each row execute function dispatch.log_visit();
