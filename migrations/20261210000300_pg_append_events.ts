import type { Knex } from 'knex';

/**
 * PostgreSQL: the event log's append in one statement (src/store/EventRepository.ts). The
 * function takes the log's advisory lock, reads the head, and inserts the transaction's
 * events chained from it, computing each hash as src/domain/EventChain.ts defines it:
 * SHA-256 over prevHash ‖ "\n" ‖ the event's canonical JSON, which the service gives as the
 * text before and after the row's `seq` (the one part it cannot know before the head). The
 * lock is then held for this one round trip and the COMMIT's, not for four. Each statement
 * of a PL/pgSQL function takes its own snapshot (READ COMMITTED), so the head is read after
 * the lock is taken. SQLite has one writer and appends from the service's code as before.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw(`
    CREATE FUNCTION append_events(lock_key bigint, message_ids text[], types text[], ats text[], datas text[], befores text[], afters text[])
    RETURNS TABLE (appended_seq bigint, appended_prev text, appended_hash text)
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      head_seq bigint;
      head_hash text;
      i integer;
    BEGIN
      PERFORM pg_advisory_xact_lock(lock_key);
      SELECT e.seq, e.hash INTO head_seq, head_hash FROM events e ORDER BY e.seq DESC LIMIT 1;
      IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
      END IF;
      FOR i IN 1 .. coalesce(array_length(message_ids, 1), 0) LOOP
        appended_seq := head_seq + i;
        appended_prev := head_hash;
        appended_hash := encode(sha256(convert_to(appended_prev || E'\\n' || befores[i] || appended_seq::text || afters[i], 'UTF8')), 'hex');
        INSERT INTO events (seq, message_id, type, at, data, prev_hash, hash)
          VALUES (appended_seq, message_ids[i], types[i], ats[i], datas[i], appended_prev, appended_hash);
        head_hash := appended_hash;
        RETURN NEXT;
      END LOOP;
    END
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw('DROP FUNCTION IF EXISTS append_events(bigint, text[], text[], text[], text[], text[], text[])');
}
