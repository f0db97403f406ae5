/**
 * What the access suite reads from the OpenAPI document: every operation with its security
 * requirement (the realm of credential it wants), and whether an answer is one the document
 * promises — its status listed for the operation, its media type listed for that status (or a
 * media range that holds it), its JSON body valid against the schema with its formats
 * (Ajv with ajv-formats; the document closes the objects of its answers itself), and no body
 * where it declares none. test/integration/openapi.spec.ts uses the same validator.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { Answer } from './client.js';

export type Realm = 'public' | 'sender' | 'recipient' | 'admin' | 'metrics' | 'callback';

/** How a provider callback is authenticated, as its description and parameters say. */
export type CallbackAuth = { kind: 'header'; header: string } | { kind: 'query'; param: string };

export interface Operation {
  /** "GET /v1/messages/{id}" */
  key: string;
  method: string;
  path: string;
  realm: Realm;
  callback?: CallbackAuth;
  responses: Record<string, any>;
  parameters: any[];
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

export function operations(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!METHODS.has(method)) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const security: Array<Record<string, unknown>> = op.security ?? doc.security ?? [];
      const base = { key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, responses: op.responses, parameters };
      out.push({ ...base, ...realmOf(path, op, security, parameters) });
    }
  }
  return out;
}

function realmOf(path: string, op: any, security: Array<Record<string, unknown>>, parameters: any[]): { realm: Realm; callback?: CallbackAuth } {
  const schemes = new Set(security.flatMap((s) => Object.keys(s)));
  if (schemes.has('senderKey') || schemes.has('senderCertificate')) return { realm: 'sender' };
  if (schemes.has('recipientToken')) return { realm: 'recipient' };
  if (schemes.has('adminToken')) return { realm: 'admin' };
  if (schemes.has('metricsToken')) return { realm: 'metrics' };
  if (schemes.size > 0) throw new Error(`${path}: unknown security scheme ${[...schemes].join(', ')}`);
  if (!path.startsWith('/v1/callbacks/')) return { realm: 'public' };
  // provider callbacks: no security scheme, authenticated by a URL token or a body signature
  const token = parameters.find((p) => p.in === 'query' && p.name === 'token' && p.required);
  if (token) return { realm: 'callback', callback: { kind: 'query', param: token.name } };
  const header = /Header ([A-Za-z][A-Za-z-]*)\./.exec(op.description ?? '');
  if (header) return { realm: 'callback', callback: { kind: 'header', header: header[1]! } };
  throw new Error(`${path}: a callback whose authentication the document does not say`);
}

// ajv-formats is CommonJS: its default export is the plugin function
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

export class AnswerValidator {
  // strict: false lets the OpenAPI-only keywords (example, description of parameters…) through
  private readonly ajv = addFormats(new Ajv2020({ strict: false, validateFormats: true, allErrors: true }));
  private readonly compiled = new Map<unknown, ValidateFunction>();

  constructor(private readonly doc: any) {
    this.ajv.addSchema({ $id: 'openapi', components: doc.components });
  }

  /** What is wrong with this answer to `op`, by the document; empty when nothing. */
  check(op: Operation, answer: Answer): string[] {
    const documented = op.responses[String(answer.status)] ?? op.responses.default;
    if (!documented) return [`status ${answer.status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    const response = documented.$ref ? this.resolve(documented.$ref) : documented;
    if (answer.status === 204) return answer.body.length === 0 ? [] : ['a 204 with a body'];
    if (!response.content) return answer.body.length === 0 ? [] : [`a ${answer.status} with a body (${answer.headers['content-type']}) where the document declares none`];
    const type = String(answer.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const media = response.content[type] ?? response.content[`${type.split('/')[0]}/*`] ?? response.content['*/*'];
    if (!media) return [`content-type "${type}" is not documented for ${answer.status} (documented: ${Object.keys(response.content).join(', ')})`];
    if (!media.schema || !/[/+]json$/.test(type)) return [];
    let value: unknown;
    try {
      value = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return [`a ${type} body that is not JSON`];
    }
    const validate = this.validator(media.schema);
    return validate(value) ? [] : [`body does not match the schema: ${this.ajv.errorsText(validate.errors)}`];
  }

  private validator(schema: unknown): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(rebase(schema) as object);
      this.compiled.set(schema, v);
    }
    return v;
  }

  private resolve(ref: string): any {
    return ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: any, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
  }
}

/** An inline schema with its local references pointed at the document's components. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rebase(v)]));
}
