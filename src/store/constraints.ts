/**
 * Which integrity constraint a failed statement broke, on either database: services that
 * check, then insert, turn the violation a concurrent request causes between the two into
 * the answer the check would have given (409 exists, 404 gone) rather than a 500.
 */
export type ConstraintViolation = 'unique' | 'foreign_key';

/** PostgreSQL SQLSTATEs (Appendix A) and better-sqlite3's extended result codes. */
const CODES: Record<string, ConstraintViolation> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
};

export function constraintViolation(err: unknown): ConstraintViolation | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && Object.hasOwn(CODES, code) ? CODES[code] : undefined;
}
