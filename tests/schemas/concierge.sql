-- "concierge": the app of the issue. Apply harness.rules.sql.platform() first (Supabase's auth
-- schema).
--
-- - help sessions in schema concierge, with names of their own: requester (the customer),
--   assigned_mechanic (a sign-in user), state (a check constraint), opened_at, closed_at,
--   touched_at; NOT NULL columns without a default that the model does not name (a unique
--   payment_ref, an enum session_type);
-- - bookings for later: scheduled_for, and the word 'scheduled' (active, never open);
-- - one active session per customer: a partial unique index;
-- - a trigger fills the cancellation columns when a session becomes cancelled, and a check
--   constraint refuses a cancelled session without them;
-- - no requests table: mechanics see assignments, keyed by session (no customer column),
--   cascading, with words of their own (queued, offered, accepted, completed, declined,
--   expired, cancelled) and a required channel;
-- - children: notes (cascade) and receipts (set null) of a session, and the replies an
--   assignment got (cascade from the assignment).

create schema concierge;

create type concierge.session_kind as enum ('chat', 'video', 'onsite');

create table concierge.help_sessions (
    session_id uuid primary key default gen_random_uuid(),
    requester uuid not null references auth.users,
    assigned_mechanic uuid references auth.users,
    state text not null default 'requested'
        check (state in ('scheduled', 'requested', 'matching', 'in_progress', 'finished', 'cancelled')),
    scheduled_for timestamptz,
    opened_at timestamptz not null default now(),
    closed_at timestamptz,
    touched_at timestamptz not null default now(),
    payment_ref text not null unique,
    session_type concierge.session_kind not null,
    cancelled_at timestamptz,
    cancel_reason text,
    check (state <> 'cancelled' or (cancelled_at is not null and cancel_reason is not null))
);

-- The app allows one active session per customer.
create unique index help_sessions_one_active on concierge.help_sessions (requester)
    where state in ('scheduled', 'requested', 'matching', 'in_progress');

create function concierge.fill_cancellation() returns trigger language plpgsql as $$
begin
    if new.state = 'cancelled' and (tg_op = 'INSERT' or old.state is distinct from 'cancelled') then
        new.cancelled_at := coalesce(new.cancelled_at, now());
        new.cancel_reason := coalesce(new.cancel_reason, 'system');
    end if;
    return new;
end;
$$;
create trigger help_sessions_cancellation before insert or update of state on concierge.help_sessions
    for each row execute function concierge.fill_cancellation();

create table concierge.assignments (
    assignment_id uuid primary key default gen_random_uuid(),
    session_id uuid not null references concierge.help_sessions on delete cascade,
    mechanic uuid references auth.users,
    status text not null default 'queued'
        check (status in ('queued', 'offered', 'accepted', 'completed', 'declined', 'expired', 'cancelled')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    channel text not null check (channel in ('push', 'sms', 'email'))
);

create table concierge.session_notes (
    note_id uuid primary key default gen_random_uuid(),
    session_id uuid not null references concierge.help_sessions on delete cascade,
    body text not null default ''
);

create table concierge.receipts (
    receipt_id uuid primary key default gen_random_uuid(),
    session_id uuid references concierge.help_sessions on delete set null,
    amount_cents integer not null default 0
);

create table concierge.assignment_replies (
    reply_id uuid primary key default gen_random_uuid(),
    assignment_id uuid not null references concierge.assignments on delete cascade,
    said text not null default 'seen'
);
