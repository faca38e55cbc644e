-- The reference app's schema, as a Supabase app's migration: it expects the
-- platform (Supabase's roles and Supabase Auth's auth.users) to be there.
-- Idempotent: safe to apply to a database that already has it.

create table if not exists public.profiles (
    id uuid primary key references auth.users on delete cascade,
    role text not null check (role in ('customer', 'mechanic', 'admin')),
    full_name text not null,
    created_at timestamptz not null default now()
);

create table if not exists public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    mechanic_id uuid references auth.users,
    plan text not null,
    status text not null
        check (status in ('pending', 'waiting', 'live', 'completed', 'cancelled')),
    payment_intent_id text unique,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    ended_at timestamptz
);

create table if not exists public.session_requests (
    id uuid primary key default gen_random_uuid(),
    session_id uuid references public.sessions on delete cascade,
    customer_id uuid not null references auth.users,
    plan text not null,
    status text not null check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    vehicle jsonb,
    created_at timestamptz not null default now(),
    accepted_by uuid references auth.users,
    accepted_at timestamptz
);

create table if not exists public.session_participants (
    session_id uuid references public.sessions on delete cascade,
    user_id uuid references auth.users,
    role text not null,
    joined_at timestamptz not null default now(),
    primary key (session_id, user_id)
);

create table if not exists public.session_files (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null references public.sessions on delete cascade,
    uploaded_by uuid references auth.users,
    file_name text not null,
    storage_path text not null,
    created_at timestamptz not null default now()
);

create table if not exists public.chat_messages (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null references public.sessions on delete cascade,
    sender_id uuid not null references auth.users,
    body text not null,
    created_at timestamptz not null default now()
);

-- What the cleanup rules and the health query look up: sessions by customer,
-- mechanic and (status, age); requests by session, customer and (status, age);
-- child rows by session, for purges and cascades.
create index if not exists sessions_customer_idx on public.sessions (customer_id);
create index if not exists sessions_mechanic_idx on public.sessions (mechanic_id);
create index if not exists sessions_status_created_idx on public.sessions (status, created_at);
create index if not exists session_requests_session_idx on public.session_requests (session_id);
create index if not exists session_requests_customer_idx on public.session_requests (customer_id);
create index if not exists session_requests_status_created_idx
    on public.session_requests (status, created_at);
create index if not exists session_participants_user_idx on public.session_participants (user_id);
create index if not exists session_files_session_idx on public.session_files (session_id);
create index if not exists chat_messages_session_idx on public.chat_messages (session_id, created_at);
