-- pitstop: the cleanup rules, once, in SQL.
--
-- Every transport (psycopg, supabase-py's rpc(), an app's debug API) calls
-- these functions, so every one of them runs the same rules in one
-- transaction. Installation is idempotent. The functions are SECURITY DEFINER
-- with an empty search_path (every name below is schema-qualified) and only
-- the owner and service_role may execute them.
--
-- Errors carry PostgREST-style SQLSTATEs so that HTTP transports map them
-- without a table of their own: PT403 (not a test user), PT404 (unknown user
-- or session), PT409 (session already ended); 22023 for a bad argument.

create schema if not exists pitstop;

create table if not exists pitstop.settings (
    key text primary key,
    value text not null
);

-- A test user carries both marks: an email in the test domain and
-- pitstop=true in its user metadata. One mark alone is not enough.
create or replace function pitstop.is_test_user(p_user_id uuid)
returns boolean
language plpgsql stable security definer set search_path = ''
as $$
declare
    v_domain text := (select value from pitstop.settings where key = 'test_domain');
begin
    return exists (
        select 1
        from auth.users u
        where u.id = p_user_id
          and right(lower(u.email), length(v_domain) + 1) = '@' || v_domain
          and u.raw_user_meta_data ->> 'pitstop' = 'true'
    );
end;
$$;

create or replace function pitstop.check_minutes(p_name text, p_minutes integer)
returns void
language plpgsql immutable set search_path = ''
as $$
begin
    if p_minutes is null or p_minutes < 0 then
        raise exception using
            errcode = '22023',
            message = format('%s must be a whole number of minutes >= 0, not %s', p_name, p_minutes);
    end if;
end;
$$;

-- Deletes a test user's session state (not the user): the sessions the user
-- is customer of, the sessions the user serves as mechanic when their customer
-- is a test user too, everything in those sessions, and the user's other
-- requests. A session whose customer is not a test user is never touched.
create or replace function pitstop.purge_user(p_user_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_domain text := (select value from pitstop.settings where key = 'test_domain');
    v_sessions uuid[];
    v_kept integer;
    v_messages integer;
    v_files integer;
    v_participants integer;
    v_requests integer;
    v_deleted integer;
begin
    if not exists (select 1 from auth.users where id = p_user_id) then
        raise exception using
            errcode = 'PT404',
            message = format('unknown user %s', p_user_id),
            hint = 'check the user id or email';
    end if;
    if not pitstop.is_test_user(p_user_id) then
        raise exception using
            errcode = 'PT403',
            message = format('user %s is not a test user; refusing to purge it', p_user_id),
            hint = format('a test user has an email ending in @%s and pitstop=true in its user metadata', v_domain);
    end if;

    -- Lock the sessions first, in id order, so that concurrent purges and
    -- writers (chat, accept) queue behind us instead of deadlocking.
    select coalesce(array_agg(id order by id), '{}')
    into v_sessions
    from (
        select s.id
        from public.sessions s
        where s.customer_id = p_user_id
           or (s.mechanic_id = p_user_id and pitstop.is_test_user(s.customer_id))
        order by s.id
        for update
    ) locked;

    select count(*) into v_kept
    from public.sessions s
    where s.mechanic_id = p_user_id and not pitstop.is_test_user(s.customer_id);

    -- Children first and explicitly: a user's schema may lack the cascades,
    -- and the counts are part of the answer.
    delete from public.chat_messages where session_id = any (v_sessions);
    get diagnostics v_messages = row_count;
    delete from public.session_files where session_id = any (v_sessions);
    get diagnostics v_files = row_count;
    delete from public.session_participants where session_id = any (v_sessions);
    get diagnostics v_participants = row_count;
    delete from public.session_requests r
    where r.session_id = any (v_sessions)
       or (r.customer_id = p_user_id
           and not exists (
               select 1 from public.sessions s
               where s.id = r.session_id and not pitstop.is_test_user(s.customer_id)));
    get diagnostics v_requests = row_count;
    delete from public.sessions where id = any (v_sessions);
    get diagnostics v_deleted = row_count;

    return jsonb_build_object(
        'user_id', p_user_id,
        'sessions', v_deleted,
        'session_requests', v_requests,
        'session_participants', v_participants,
        'session_files', v_files,
        'chat_messages', v_messages,
        'kept', v_kept
    );
end;
$$;

-- Global and time-based; cancels, never deletes. live, completed and
-- cancelled rows are never touched.
create or replace function pitstop.cleanup_stale(
    p_waiting_minutes integer default 15,
    p_orphan_minutes integer default 20
)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_waiting_cut timestamptz;
    v_orphan_cut timestamptz;
    v_expired_sessions uuid[];
    v_requests integer;
    v_sessions integer;
    v_orphans integer;
begin
    perform pitstop.check_minutes('waiting_minutes', p_waiting_minutes);
    perform pitstop.check_minutes('orphan_minutes', p_orphan_minutes);
    v_waiting_cut := now() - make_interval(mins => p_waiting_minutes);
    v_orphan_cut := now() - make_interval(mins => p_orphan_minutes);

    with expired as (
        update public.session_requests
        set status = 'expired'
        where status = 'pending' and created_at < v_waiting_cut
        returning session_id
    )
    select coalesce(array_agg(session_id) filter (where session_id is not null), '{}'), count(*)
    into v_expired_sessions, v_requests
    from expired;

    with cancelled as (
        update public.sessions s
        set status = 'cancelled', ended_at = now()
        where s.status in ('pending', 'waiting')
          and (s.id = any (v_expired_sessions)
               or s.created_at < v_waiting_cut
               or (s.created_at < v_orphan_cut
                   and not exists (select 1 from public.session_requests r where r.session_id = s.id)))
        returning not exists (select 1 from public.session_requests r where r.session_id = s.id) as orphan
    )
    select count(*), count(*) filter (where orphan)
    into v_sessions, v_orphans
    from cancelled;

    return jsonb_build_object(
        'requests_expired', v_requests,
        'sessions_cancelled', v_sessions,
        'orphans_cancelled', v_orphans
    );
end;
$$;

-- Cancels one stuck session (pending, waiting or live) and its pending request.
create or replace function pitstop.force_cancel(p_session_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_status text;
    v_requests integer;
begin
    select status into v_status from public.sessions where id = p_session_id for update;
    if not found then
        raise exception using
            errcode = 'PT404',
            message = format('unknown session %s', p_session_id),
            hint = 'check the session id';
    end if;
    if v_status in ('completed', 'cancelled') then
        raise exception using
            errcode = 'PT409',
            message = format('session %s has already ended (%s); nothing to cancel', p_session_id, v_status);
    end if;

    update public.sessions set status = 'cancelled', ended_at = now() where id = p_session_id;
    update public.session_requests set status = 'cancelled'
    where session_id = p_session_id and status = 'pending';
    get diagnostics v_requests = row_count;

    return jsonb_build_object(
        'session_id', p_session_id,
        'previous_status', v_status,
        'requests_cancelled', v_requests
    );
end;
$$;

-- The app's cleanup point before a payment is fulfilled: cancels the
-- customer's waiting/pending sessions older than p_minutes (and their pending
-- requests), then says whether an active session still blocks a new payment.
create or replace function pitstop.customer_session_status(
    p_customer_id uuid,
    p_minutes integer default 15
)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_cancelled uuid[];
    v_active jsonb;
begin
    perform pitstop.check_minutes('minutes', p_minutes);
    if not exists (select 1 from auth.users where id = p_customer_id) then
        raise exception using
            errcode = 'PT404',
            message = format('unknown user %s', p_customer_id),
            hint = 'check the customer id';
    end if;

    with cancelled as (
        update public.sessions
        set status = 'cancelled', ended_at = now()
        where customer_id = p_customer_id
          and status in ('pending', 'waiting')
          and created_at < now() - make_interval(mins => p_minutes)
        returning id
    )
    select coalesce(array_agg(id), '{}') into v_cancelled from cancelled;

    update public.session_requests set status = 'cancelled'
    where session_id = any (v_cancelled) and status = 'pending';

    select jsonb_build_object('id', s.id, 'status', s.status, 'created_at', s.created_at)
    into v_active
    from public.sessions s
    where s.customer_id = p_customer_id and s.status in ('pending', 'waiting', 'live')
    order by s.created_at desc
    limit 1;

    return jsonb_build_object(
        'customer_id', p_customer_id,
        'cancelled', cardinality(v_cancelled),
        'blocked', v_active is not null,
        'active_session', v_active
    );
end;
$$;

create or replace function pitstop.health(
    p_stale_minutes integer default 15,
    p_very_stale_minutes integer default 60
)
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
    v_stale_cut timestamptz;
    v_very_cut timestamptz;
    v_sessions jsonb;
    v_requests jsonb;
    v_stale integer;
    v_very_stale integer;
    v_stale_requests integer;
    v_orphans integer;
    v_live_alone integer;
    v_problems jsonb := '[]';
begin
    perform pitstop.check_minutes('stale_minutes', p_stale_minutes);
    perform pitstop.check_minutes('very_stale_minutes', p_very_stale_minutes);
    if p_very_stale_minutes < p_stale_minutes then
        raise exception using
            errcode = '22023',
            message = format('very_stale_minutes (%s) must be >= stale_minutes (%s)',
                             p_very_stale_minutes, p_stale_minutes);
    end if;
    v_stale_cut := now() - make_interval(mins => p_stale_minutes);
    v_very_cut := now() - make_interval(mins => p_very_stale_minutes);

    select
        jsonb_build_object(
            'pending', jsonb_build_object(
                'total', count(*) filter (where status = 'pending'),
                'stale', count(*) filter (where status = 'pending' and created_at < v_stale_cut),
                'veryStale', count(*) filter (where status = 'pending' and created_at < v_very_cut)),
            'waiting', jsonb_build_object(
                'total', count(*) filter (where status = 'waiting'),
                'stale', count(*) filter (where status = 'waiting' and created_at < v_stale_cut),
                'veryStale', count(*) filter (where status = 'waiting' and created_at < v_very_cut)),
            'live', jsonb_build_object('total', count(*) filter (where status = 'live')),
            'completed', jsonb_build_object('total', count(*) filter (where status = 'completed')),
            'cancelled', jsonb_build_object('total', count(*) filter (where status = 'cancelled'))),
        count(*) filter (where status in ('pending', 'waiting') and created_at < v_stale_cut),
        count(*) filter (where status in ('pending', 'waiting') and created_at < v_very_cut),
        count(*) filter (where status = 'live' and mechanic_id is null)
    into v_sessions, v_stale, v_very_stale, v_live_alone
    from public.sessions;

    select
        jsonb_build_object(
            'pending', jsonb_build_object(
                'total', count(*) filter (where status = 'pending'),
                'stale', count(*) filter (where status = 'pending' and created_at < v_stale_cut)),
            'accepted', jsonb_build_object('total', count(*) filter (where status = 'accepted')),
            'expired', jsonb_build_object('total', count(*) filter (where status = 'expired')),
            'cancelled', jsonb_build_object('total', count(*) filter (where status = 'cancelled'))),
        count(*) filter (where status = 'pending' and created_at < v_stale_cut)
    into v_requests, v_stale_requests
    from public.session_requests;

    select count(*) into v_orphans
    from public.sessions s
    where s.status in ('pending', 'waiting')
      and not exists (select 1 from public.session_requests r where r.session_id = s.id);

    if v_stale > 0 then
        v_problems := v_problems || jsonb_build_object(
            'code', 'stale_waiting', 'count', v_stale,
            'message', format('%s waiting/pending sessions older than %s minutes block new payments; run pitstop cleanup',
                              v_stale, p_stale_minutes));
    end if;
    if v_very_stale > 0 then
        v_problems := v_problems || jsonb_build_object(
            'code', 'very_stale_waiting', 'count', v_very_stale,
            'message', format('%s waiting/pending sessions older than %s minutes: no stale cleanup has run for a long time',
                              v_very_stale, p_very_stale_minutes));
    end if;
    if v_stale_requests > 0 then
        v_problems := v_problems || jsonb_build_object(
            'code', 'stale_pending_requests', 'count', v_stale_requests,
            'message', format('%s pending requests older than %s minutes are still shown to mechanics; run pitstop cleanup',
                              v_stale_requests, p_stale_minutes));
    end if;
    if v_orphans > 0 then
        v_problems := v_problems || jsonb_build_object(
            'code', 'orphaned_sessions', 'count', v_orphans,
            'message', format('%s waiting/pending sessions have no request, so no mechanic can accept them',
                              v_orphans));
    end if;
    if v_live_alone > 0 then
        v_problems := v_problems || jsonb_build_object(
            'code', 'live_without_mechanic', 'count', v_live_alone,
            'message', format('%s live sessions have no mechanic; force-cancel them', v_live_alone));
    end if;

    return jsonb_build_object(
        'checked_at', now(),
        'sessions', v_sessions,
        'requests', v_requests,
        'orphans', v_orphans,
        'problems', v_problems
    );
end;
$$;

-- Purges a test user's session state and makes sure nothing else still refers
-- to it (a session of a real customer it served, a message it wrote there):
-- deleting the user then cascades nowhere. Raises, changing nothing, if not.
create or replace function pitstop.release_test_user(p_user_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_counts jsonb := pitstop.purge_user(p_user_id);
begin
    if exists (select 1 from public.sessions where customer_id = p_user_id or mechanic_id = p_user_id)
       or exists (select 1 from public.session_requests
                  where customer_id = p_user_id or accepted_by = p_user_id)
       or exists (select 1 from public.session_participants where user_id = p_user_id)
       or exists (select 1 from public.session_files where uploaded_by = p_user_id)
       or exists (select 1 from public.chat_messages where sender_id = p_user_id) then
        raise exception using
            errcode = 'PT409',
            message = format('test user %s still has rows in sessions of users who are not test users', p_user_id),
            hint = 'leave the user in place, or end those sessions first';
    end if;
    return v_counts;
end;
$$;

-- Removes a test user entirely: its session state, its profile, what Supabase
-- Auth's own delete removes with a user (identities, MFA factors, sign-in
-- sessions and their refresh tokens; each only where the table is there) and
-- its auth row. A row elsewhere that still refers to the user with no cascade
-- (a Storage object it owns, say) stops it, changing nothing, and the error
-- names the table and the column.
create or replace function pitstop.delete_test_user(p_user_id uuid)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_counts jsonb := pitstop.release_test_user(p_user_id);
    v_schema text;
    v_table text;
    v_constraint text;
    v_column text;
begin
    if to_regclass('auth.refresh_tokens') is not null then
        delete from auth.refresh_tokens where user_id = p_user_id::text;
    end if;
    if to_regclass('auth.sessions') is not null then
        delete from auth.sessions where user_id = p_user_id;
    end if;
    if to_regclass('auth.mfa_factors') is not null then
        delete from auth.mfa_factors where user_id = p_user_id;
    end if;
    if to_regclass('auth.identities') is not null then
        delete from auth.identities where user_id = p_user_id;
    end if;
    if to_regclass('public.profiles') is not null then
        delete from public.profiles where id = p_user_id;
    end if;
    begin
        delete from auth.users where id = p_user_id;
    exception when foreign_key_violation then
        get stacked diagnostics v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
        select string_agg(a.attname, ', ') into v_column
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any (k.conkey)
        where k.conname = v_constraint and c.relname = v_table and n.nspname = v_schema;
        raise exception using
            errcode = 'PT409',
            message = format('test user %s is still referenced from %I.%I (column %s, constraint %s); it was left in place',
                             p_user_id, v_schema, v_table, v_column, v_constraint),
            hint = format('delete those %I.%I rows first, or give the foreign key on delete cascade or set null',
                          v_schema, v_table);
    end;
    return v_counts || jsonb_build_object('users', 1);
end;
$$;

-- The test users (both marks), with their run tags, for sweeping dead runs.
create or replace function pitstop.test_users()
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
begin
    return coalesce((
        select jsonb_agg(jsonb_build_object(
            'id', u.id, 'email', u.email, 'metadata', u.raw_user_meta_data, 'created_at', u.created_at
        ) order by u.created_at)
        from auth.users u
        where pitstop.is_test_user(u.id)
    ), '[]');
end;
$$;

-- The sessions that keep these users busy (pending, waiting, live): what a
-- test must not leave behind.
create or replace function pitstop.active_sessions(p_user_ids uuid[])
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
begin
    return coalesce((
        select jsonb_agg(jsonb_build_object(
            'id', s.id, 'status', s.status, 'customer_id', s.customer_id, 'mechanic_id', s.mechanic_id,
            'request_id', (select r.id from public.session_requests r
                           where r.session_id = s.id order by r.created_at desc limit 1)
        ) order by s.created_at)
        from public.sessions s
        where s.status in ('pending', 'waiting', 'live')
          and (s.customer_id = any (p_user_ids) or s.mechanic_id = any (p_user_ids))
    ), '[]');
end;
$$;

-- Every app row that involves these users, as JSON per table: the evidence
-- kept beside a failed test.
create or replace function pitstop.user_rows(p_user_ids uuid[])
returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
    v_sessions uuid[];
begin
    select coalesce(array_agg(id), '{}') into v_sessions
    from public.sessions
    where customer_id = any (p_user_ids) or mechanic_id = any (p_user_ids);
    return jsonb_build_object(
        'users', (select coalesce(jsonb_agg(jsonb_build_object(
                    'id', u.id, 'email', u.email, 'metadata', u.raw_user_meta_data)), '[]')
                  from auth.users u where u.id = any (p_user_ids)),
        'sessions', (select coalesce(jsonb_agg(to_jsonb(s) order by s.created_at), '[]')
                     from public.sessions s where s.id = any (v_sessions)),
        'session_requests', (select coalesce(jsonb_agg(to_jsonb(r) order by r.created_at), '[]')
                             from public.session_requests r
                             where r.session_id = any (v_sessions) or r.customer_id = any (p_user_ids)),
        'session_participants', (select coalesce(jsonb_agg(to_jsonb(p)), '[]')
                                 from public.session_participants p where p.session_id = any (v_sessions)),
        'session_files', (select coalesce(jsonb_agg(to_jsonb(f)), '[]')
                          from public.session_files f where f.session_id = any (v_sessions)),
        'chat_messages', (select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at), '[]')
                          from public.chat_messages m where m.session_id = any (v_sessions))
    );
end;
$$;

-- Only the owner and service_role may run the rules or read the settings.
revoke all on all functions in schema pitstop from public;
revoke all on table pitstop.settings from public;
do $$
declare
    v_role text;
begin
    foreach v_role in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = v_role) then
            execute format('revoke all on all functions in schema pitstop from %I', v_role);
            execute format('revoke all on schema pitstop from %I', v_role);
        end if;
    end loop;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
        grant usage on schema pitstop to service_role;
        grant execute on all functions in schema pitstop to service_role;
    end if;
end;
$$;

-- PostgREST (Supabase's REST API) exposes only the schemas in its
-- configuration, usually just public: these thin wrappers are what the
-- supabase store calls through rpc(). Each calls the rule of the same name;
-- p_dry_run runs it in a block that is then rolled back, so a dry run's
-- counts are exact and nothing stays changed.
create or replace function public.pitstop_purge_user(p_user_id uuid, p_dry_run boolean default false)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_result jsonb;
begin
    if not p_dry_run then
        return pitstop.purge_user(p_user_id);
    end if;
    begin
        v_result := pitstop.purge_user(p_user_id);
        -- Undo the block's writes; PL/pgSQL keeps the variables.
        raise exception using errcode = 'PTDRY';
    exception
        when sqlstate 'PTDRY' then
            return v_result;
    end;
end;
$$;

-- Several users in one round trip and one transaction.
create or replace function public.pitstop_purge_users(p_user_ids uuid[])
returns jsonb
language sql volatile security definer set search_path = ''
as $$
    select coalesce(jsonb_agg(pitstop.purge_user(u) order by n), '[]')
    from unnest(p_user_ids) with ordinality as t(u, n);
$$;

create or replace function public.pitstop_cleanup_stale(
    p_waiting_minutes integer default 15,
    p_orphan_minutes integer default 20,
    p_dry_run boolean default false
)
returns jsonb
language plpgsql volatile security definer set search_path = ''
as $$
declare
    v_result jsonb;
begin
    if not p_dry_run then
        return pitstop.cleanup_stale(p_waiting_minutes, p_orphan_minutes);
    end if;
    begin
        v_result := pitstop.cleanup_stale(p_waiting_minutes, p_orphan_minutes);
        raise exception using errcode = 'PTDRY';
    exception
        when sqlstate 'PTDRY' then
            return v_result;
    end;
end;
$$;

create or replace function public.pitstop_force_cancel(p_session_id uuid)
returns jsonb
language sql volatile security definer set search_path = ''
as $$ select pitstop.force_cancel(p_session_id); $$;

create or replace function public.pitstop_customer_session_status(
    p_customer_id uuid,
    p_minutes integer default 15
)
returns jsonb
language sql volatile security definer set search_path = ''
as $$ select pitstop.customer_session_status(p_customer_id, p_minutes); $$;

create or replace function public.pitstop_health(
    p_stale_minutes integer default 15,
    p_very_stale_minutes integer default 60
)
returns jsonb
language sql stable security definer set search_path = ''
as $$ select pitstop.health(p_stale_minutes, p_very_stale_minutes); $$;

-- The id of the user with this email (any user: the rules check the marks).
create or replace function public.pitstop_find_user(p_email text)
returns uuid
language sql stable security definer set search_path = ''
as $$ select id from auth.users where lower(email) = lower(p_email); $$;

create or replace function public.pitstop_active_sessions(p_user_ids uuid[])
returns jsonb
language sql stable security definer set search_path = ''
as $$ select pitstop.active_sessions(p_user_ids); $$;

create or replace function public.pitstop_user_rows(p_user_ids uuid[])
returns jsonb
language sql stable security definer set search_path = ''
as $$ select pitstop.user_rows(p_user_ids); $$;

create or replace function public.pitstop_release_test_user(p_user_id uuid)
returns jsonb
language sql volatile security definer set search_path = ''
as $$ select pitstop.release_test_user(p_user_id); $$;

-- What install recorded (test domain, pitstop's version, the rules' hash), for `pitstop doctor`.
create or replace function public.pitstop_installed()
returns jsonb
language sql stable security definer set search_path = ''
as $$ select coalesce(jsonb_object_agg(key, value), '{}') from pitstop.settings; $$;

-- Only the owner and service_role may call the wrappers either. Supabase's
-- default privileges grant every new function in public to anon and
-- authenticated, so revoke by name.
do $$
declare
    v_function text;
    v_role text;
begin
    foreach v_function in array array[
        'public.pitstop_purge_user(uuid, boolean)',
        'public.pitstop_purge_users(uuid[])',
        'public.pitstop_cleanup_stale(integer, integer, boolean)',
        'public.pitstop_force_cancel(uuid)',
        'public.pitstop_customer_session_status(uuid, integer)',
        'public.pitstop_health(integer, integer)',
        'public.pitstop_find_user(text)',
        'public.pitstop_active_sessions(uuid[])',
        'public.pitstop_user_rows(uuid[])',
        'public.pitstop_release_test_user(uuid)',
        'public.pitstop_installed()'
    ] loop
        execute format('revoke all on function %s from public', v_function);
        foreach v_role in array array['anon', 'authenticated'] loop
            if exists (select 1 from pg_roles where rolname = v_role) then
                execute format('revoke all on function %s from %I', v_function, v_role);
            end if;
        end loop;
        if exists (select 1 from pg_roles where rolname = 'service_role') then
            execute format('grant execute on function %s to service_role', v_function);
        end if;
    end loop;
end;
$$;

-- PostgREST caches the schema: have it read the new functions now.
notify pgrst, 'reload schema';
