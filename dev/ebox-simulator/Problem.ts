/**
 * Answers of the simulated e-Box: JSON, and RFC 9457 problem details
 * (`application/problem+json`, `{type, title, status, detail}`) for every failure except
 * the OAuth2 token endpoint, which answers as RFC 6749 §5.2 says (`{"error": ...}`).
 */
import type { ServerResponse } from 'node:http';

export const PROBLEM_TYPE_BASE = 'https://ebox-simulator.invalid/problems/';

export const PROBLEM_TITLES = {
  'invalid-request': 'The request is malformed',
  unauthorized: 'A valid access token is required',
  'not-found': 'No such resource',
  'method-not-allowed': 'Method not allowed',
  'recipient-unknown': 'The recipient is unknown',
  'not-activated': 'The recipient has not activated an e-Box',
  'publication-unknown': 'No such publication',
  'digest-mismatch': 'An attachment does not match its digest',
  'idempotency-key-missing': 'The Idempotency-Key header is required',
  'idempotency-key-reused': 'The Idempotency-Key was used for another publication',
  'document-too-large': 'An attachment is too large',
  'unsupported-media-type': 'Unsupported media type',
  'rate-limited': 'Too many requests',
  unavailable: 'The e-Box is temporarily unavailable',
  'internal-error': 'Internal error',
} as const;
export type ProblemType = keyof typeof PROBLEM_TITLES;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json', body, headers);
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  type: ProblemType,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const body = { type: PROBLEM_TYPE_BASE + type, title: PROBLEM_TITLES[type], status, detail };
  send(res, status, 'application/problem+json', body, headers);
}

function send(res: ServerResponse, status: number, contentType: string, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store' });
  res.end(bytes);
}
