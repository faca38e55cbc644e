-- "garage": shaped like the app pitstop was first written for. Apply
-- harness.rules.sql.platform() first (Supabase's auth schema).
--
-- - sessions name their customer customer_user_id; the status is free text
--   with a sixth word, scheduled, that blocks a new payment like waiting and
--   live;
-- - session requests point at no session: a request belongs to its
--   customer's sessions, so an orphan is an open session whose customer has
--   no pending request;
-- - the request status allows only pending, accepted and cancelled (a check
--   constraint): a stale request is set to cancelled;
-- - mechanics are rows of their own table (no link to a sign-in user), and a
--   mechanic row may point at the session it is on (no action): a row outside
--   any purge's footprint;
-- - children: chat messages (cascade) and their read receipts (cascade, depth
--   two), offers made on a request (no action), payments that outlive their
--   session (set null) and hold a user id with no foreign key.

create table public.profiles (
    id uuid primary key references auth.users on delete cascade,
    role text not null,
    full_name text not null
);

create table public.mechanics (
    id uuid primary key default gen_random_uuid(),
    email text not null unique,
    display_name text not null default 'Mechanic',
    current_session_id uuid
);

create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_user_id uuid not null references auth.users,
    mechanic_id uuid references public.mechanics,
    plan text not null default 'Quick Chat',
    status text not null default 'pending',
    created_at timestamptz not null default now(),
    ended_at timestamptz
);

alter table public.mechanics
    add constraint mechanics_current_session_fkey foreign key (current_session_id) references public.sessions;

create table public.session_requests (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    accepted_by uuid references public.mechanics,
    status text not null default 'pending' check (status in ('pending', 'accepted', 'cancelled')),
    created_at timestamptz not null default now()
);

create table public.chat_messages (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null references public.sessions on delete cascade,
    sender_id uuid not null,
    body text not null default 'hello'
);

create table public.message_reads (
    message_id uuid not null references public.chat_messages on delete cascade,
    reader_id uuid not null,
    read_at timestamptz not null default now(),
    primary key (message_id, reader_id)
);

create table public.request_offers (
    id uuid primary key default gen_random_uuid(),
    request_id uuid not null references public.session_requests,
    mechanic_id uuid not null references public.mechanics,
    price_cents integer not null default 1500
);

create table public.session_payments (
    id uuid primary key default gen_random_uuid(),
    session_id uuid references public.sessions on delete set null,
    customer_user_id uuid not null,
    amount_cents integer not null default 2500
);
