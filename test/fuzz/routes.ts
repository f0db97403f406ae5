/**
 * The routes to fuzz, read from the service's own OpenAPI document (/openapi.json): every
 * path and method, its parameters, who may call it and what body it takes; and an
 * instance of a schema to start mutating from.
 */
import type { Rng } from './prng.js';

export type Realm = 'sender' | 'recipient' | 'admin' | 'metrics' | 'none';

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  schema: Schema;
}

export interface Route {
  method: string;
  /** the OpenAPI path template, e.g. /v1/messages/{id} */
  template: string;
  params: Param[];
  realm: Realm;
  /** request body media types and their schemas */
  body: Array<{ type: string; schema: Schema }>;
}

export type Schema = Record<string, any>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

const REALM_OF_SCHEME: Record<string, Realm> = {
  senderKey: 'sender',
  senderCertificate: 'sender',
  recipientToken: 'recipient',
  adminToken: 'admin',
  metricsToken: 'metrics',
};

/** Every operation of the document, in a stable order (the generator's choices depend on it). */
export function routesOf(doc: Schema): Route[] {
  const out: Route[] = [];
  for (const template of Object.keys(doc.paths).sort()) {
    const item = doc.paths[template];
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) => ({ name: p.name, in: p.in, schema: p.schema ?? {} }));
      const security: Array<Record<string, unknown>> = op.security ?? doc.security ?? [];
      const scheme = security.map((s) => Object.keys(s)[0]).find((k) => k !== undefined);
      const content = op.requestBody?.content ?? {};
      out.push({
        method: method.toUpperCase(),
        template,
        params,
        realm: scheme ? (REALM_OF_SCHEME[scheme] ?? 'none') : 'none',
        body: Object.keys(content)
          .sort()
          .map((type) => ({ type, schema: content[type].schema ?? {} })),
      });
    }
  }
  return out;
}

/** The methods the document declares for a path template. */
export function methodsOf(doc: Schema, template: string): string[] {
  const item = doc.paths[template] ?? {};
  return METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
}

/** Follows a local $ref. */
export function resolve(doc: Schema, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) {
    s = s.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: Schema, key: string) => node?.[key], doc);
  }
  return s ?? {};
}

/**
 * A plausible instance of `schema`: required properties always, optional ones often, enum
 * members, and for strings a value from `hint(name)` when the caller knows the field.
 */
export function sample(doc: Schema, schema: Schema | undefined, rng: Rng, hint: (name: string) => unknown, name = '', depth = 0): unknown {
  const s = resolve(doc, schema);
  if (depth > 8) return null;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return rng.pick(s.enum);
  if (Array.isArray(s.oneOf)) return sample(doc, rng.pick(s.oneOf), rng, hint, name, depth + 1);
  const hinted = hint(name);
  if (hinted !== undefined) return hinted;
  const type = Array.isArray(s.type) ? rng.pick(s.type.filter((t: string) => t !== 'null').length ? s.type.filter((t: string) => t !== 'null') : s.type) : s.type;
  switch (type ?? (s.properties ? 'object' : 'string')) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required: string[] = s.required ?? [];
      for (const key of Object.keys(s.properties ?? {})) {
        if (required.includes(key) || rng.chance(0.6)) out[key] = sample(doc, s.properties[key], rng, hint, key, depth + 1);
      }
      if (Object.keys(out).length === 0 && s.additionalProperties && typeof s.additionalProperties === 'object') {
        out[rng.chars(4)] = sample(doc, s.additionalProperties, rng, hint, '', depth + 1);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: rng.between(s.minItems ?? 0, Math.min(3, s.maxItems ?? 3)) }, () => sample(doc, s.items, rng, hint, name, depth + 1));
    case 'integer':
      return rng.between(s.minimum ?? 0, Math.min(s.maximum ?? 100, 100));
    case 'number':
      return rng.float() * 100;
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    default:
      return rng.chars(rng.between(1, Math.min(12, s.maxLength ?? 12)));
  }
}
