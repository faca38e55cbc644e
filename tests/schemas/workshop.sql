-- "workshop": nothing in public, every column renamed, enum statuses. Apply
-- harness.rules.sql.platform() first (Supabase's auth schema).
--
-- - jobs (the sessions) in schema shop keep the link to their ticket (the
--   request): sessions.request;
-- - technicians (the mechanics) are rows of their own table, linked to a
--   sign-in user; a technician row may point at the job it is on (no
--   action): a row outside any purge's footprint;
-- - children: job events (cascade) and their attachments (no action, depth
--   two, also pointing at the job directly); notes on a ticket (cascade);
--   invoices in another schema (billing) that outlive their job (set null),
--   with lines (cascade, under the set-null key) and a user id with no
--   foreign key (billed_to); an event's author is a user id with no foreign
--   key either.

create schema shop;
create schema billing;

create type shop.job_state as enum ('booked', 'queued', 'in_progress', 'finished', 'voided');
create type shop.ticket_phase as enum ('open', 'claimed', 'lapsed', 'withdrawn');

create table shop.technicians (
    tech_id uuid primary key default gen_random_uuid(),
    contact_email varchar(320) not null unique,
    account uuid references auth.users on delete set null,
    on_job uuid
);

create table shop.tickets (
    ticket_id uuid primary key default gen_random_uuid(),
    requester uuid not null references auth.users,
    claimed_by uuid references shop.technicians,
    phase shop.ticket_phase not null default 'open',
    filed_at timestamptz not null default now()
);

create table shop.jobs (
    job_id uuid primary key default gen_random_uuid(),
    client uuid not null references auth.users,
    tech uuid references shop.technicians,
    ticket uuid references shop.tickets,
    state shop.job_state not null default 'queued',
    opened_at timestamptz not null default now(),
    closed_at timestamptz,
    touched_at timestamptz not null default now()
);

alter table shop.technicians
    add constraint technicians_on_job_fkey foreign key (on_job) references shop.jobs;

create table shop.job_events (
    event_id uuid primary key default gen_random_uuid(),
    job uuid not null references shop.jobs on delete cascade,
    author uuid,
    note text not null default 'note'
);

create table shop.event_attachments (
    attachment_id uuid primary key default gen_random_uuid(),
    event uuid not null references shop.job_events,
    job uuid references shop.jobs on delete cascade,
    path text not null default 'photo.jpg'
);

create table shop.ticket_notes (
    note_id uuid primary key default gen_random_uuid(),
    ticket uuid not null references shop.tickets on delete cascade,
    body text not null default 'note'
);

create table billing.invoices (
    invoice_id uuid primary key default gen_random_uuid(),
    job uuid references shop.jobs on delete set null,
    billed_to uuid not null,
    amount_cents integer not null default 4000
);

create table billing.invoice_lines (
    line_id uuid primary key default gen_random_uuid(),
    invoice uuid not null references billing.invoices on delete cascade,
    label text not null default 'labour'
);
