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
-- The accepting mechanic, as the row-level security of session_requests reads it.
create index if not exists session_requests_accepted_by_idx on public.session_requests (accepted_by);

-- What the API roles may do: Supabase's default privileges grant everything in
-- public to anon, authenticated and service_role; these grants make the file
-- work on a database without them. Row-level security then decides which rows
-- authenticated users reach; anon has no policy, so it reads and writes nothing.
-- The app server (the tables' owner) and pitstop's SECURITY DEFINER functions
-- are not subject to it, and service_role bypasses it.
grant usage on schema public to authenticated, service_role;
grant select on public.profiles, public.sessions, public.session_requests,
    public.session_participants, public.session_files, public.chat_messages to authenticated;
grant insert on public.session_files, public.chat_messages to authenticated;
grant all on public.profiles, public.sessions, public.session_requests,
    public.session_participants, public.session_files, public.chat_messages to service_role;
-- A user may rename itself, never change its role (that would make it an admin).
revoke update on public.profiles from authenticated;
grant update (full_name) on public.profiles to authenticated;

-- Row-level security on every app table; enabled only where it is off, so a
-- second application takes no table lock.
do $$
declare
    v_table regclass;
begin
    foreach v_table in array array[
        'public.profiles', 'public.sessions', 'public.session_requests',
        'public.session_participants', 'public.session_files', 'public.chat_messages'
    ]::regclass[] loop
        if not (select relrowsecurity from pg_class where oid = v_table) then
            execute format('alter table %s enable row level security', v_table);
        end if;
    end loop;
end;
$$;

-- The policies, each made when missing. (select auth.uid()) is evaluated once
-- per statement, not once per row. A session's participants are its customer
-- and its mechanic.
do $$
begin
    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'profiles'
                   and policyname = 'users read their own profile') then
        create policy "users read their own profile" on public.profiles
            for select to authenticated
            using (id = (select auth.uid()));
    end if;
    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'profiles'
                   and policyname = 'users update their own profile') then
        create policy "users update their own profile" on public.profiles
            for update to authenticated
            using (id = (select auth.uid()))
            with check (id = (select auth.uid()));
    end if;

    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'sessions'
                   and policyname = 'participants read their sessions') then
        create policy "participants read their sessions" on public.sessions
            for select to authenticated
            using ((select auth.uid()) in (customer_id, mechanic_id));
    end if;

    -- Mechanics see every pending request (to accept one) and those they accepted.
    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'session_requests'
                   and policyname = 'customers and mechanics read their requests') then
        create policy "customers and mechanics read their requests" on public.session_requests
            for select to authenticated
            using (
                customer_id = (select auth.uid())
                or accepted_by = (select auth.uid())
                or (status = 'pending'
                    and (select p.role from public.profiles p where p.id = (select auth.uid())) = 'mechanic')
            );
    end if;

    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'session_participants'
                   and policyname = 'participants read their sessions'' participants') then
        create policy "participants read their sessions' participants" on public.session_participants
            for select to authenticated
            using (session_id in (select s.id from public.sessions s
                                  where (select auth.uid()) in (s.customer_id, s.mechanic_id)));
    end if;

    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'session_files'
                   and policyname = 'participants read their sessions'' files') then
        create policy "participants read their sessions' files" on public.session_files
            for select to authenticated
            using (session_id in (select s.id from public.sessions s
                                  where (select auth.uid()) in (s.customer_id, s.mechanic_id)));
    end if;
    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'session_files'
                   and policyname = 'participants upload files as themselves') then
        create policy "participants upload files as themselves" on public.session_files
            for insert to authenticated
            with check (
                uploaded_by = (select auth.uid())
                and session_id in (select s.id from public.sessions s
                                   where (select auth.uid()) in (s.customer_id, s.mechanic_id))
            );
    end if;

    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'chat_messages'
                   and policyname = 'participants read their sessions'' chat') then
        create policy "participants read their sessions' chat" on public.chat_messages
            for select to authenticated
            using (session_id in (select s.id from public.sessions s
                                  where (select auth.uid()) in (s.customer_id, s.mechanic_id)));
    end if;
    if not exists (select from pg_policies where schemaname = 'public' and tablename = 'chat_messages'
                   and policyname = 'participants post as themselves') then
        create policy "participants post as themselves" on public.chat_messages
            for insert to authenticated
            with check (
                sender_id = (select auth.uid())
                and session_id in (select s.id from public.sessions s
                                   where (select auth.uid()) in (s.customer_id, s.mechanic_id))
            );
    end if;
end;
$$;

-- What the app's pages show changes whoever writes it (the app, its webhook, a
-- harness's SQL): these triggers NOTIFY page_changes in the writing
-- transaction, so the notice goes out at commit. The payload is the topic, the
-- pages that show it: 'customer:<id>' for a change to that customer's sessions,
-- 'mechanics' when a pending request appears, changes or goes. PostgreSQL
-- sends a transaction's identical notices once, so a purge of many rows makes
-- one notice per topic. The app's listener (realtime.py) tells the pages.
create or replace function public.notify_page_change() returns trigger
    language plpgsql
    set search_path = pg_catalog
as $$
begin
    if tg_op = 'UPDATE' and old is not distinct from new then
        return null;
    end if;
    if tg_table_name = 'sessions' then
        if tg_op <> 'INSERT' then
            perform pg_notify('page_changes', 'customer:' || old.customer_id);
        end if;
        if tg_op <> 'DELETE' then
            perform pg_notify('page_changes', 'customer:' || new.customer_id);
        end if;
    elsif tg_table_name = 'session_requests' then
        if tg_op <> 'INSERT' then
            if old.status = 'pending' then
                perform pg_notify('page_changes', 'mechanics');
            end if;
        end if;
        if tg_op <> 'DELETE' then
            if new.status = 'pending' then
                perform pg_notify('page_changes', 'mechanics');
            end if;
        end if;
    end if;
    return null;
end;
$$;

-- A trigger function only: no role needs to call it (Supabase grants new functions to anon
-- and authenticated by default).
revoke all on function public.notify_page_change() from public, anon, authenticated;

-- Each trigger made when missing, so that a second application takes no table lock.
do $$
declare
    v_table regclass;
begin
    foreach v_table in array array['public.sessions', 'public.session_requests']::regclass[] loop
        if not exists (select from pg_trigger where tgrelid = v_table
                       and tgname = 'notify_page_change') then
            execute format('create trigger notify_page_change after insert or update or delete on %s'
                           ' for each row execute function public.notify_page_change()', v_table);
        end if;
    end loop;
end;
$$;
