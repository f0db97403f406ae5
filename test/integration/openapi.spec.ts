import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'chai';
import type { Express } from 'express';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { metadata, pdfBytes, startTestService, submit, type TestService } from '../helpers/service.js';

/** Every METHOD /path the express app serves, with :params written {params}. */
function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as any).router.stack);
  return [...new Set(out)].sort();
}

describe('OpenAPI document', () => {
  let svc: TestService;
  let doc: any;
  let ajv: Ajv2020;
  let apiKey: string;

  before(async () => {
    svc = await startTestService();
    apiKey = (await svc.newSender()).apiKey;
    await svc.newRecipient('citizen', '85073003328');
    doc = await (await fetch(`${svc.url}/openapi.json`)).json();
    ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'openapi', components: doc.components });
  });
  after(async () => svc?.close());

  function validate(ref: string, value: unknown): void {
    const v = ajv.getSchema(`openapi#/components/schemas/${ref}`)!;
    expect(v(value), `${ref}: ${JSON.stringify(v.errors)}`).to.equal(true);
  }

  it('is OpenAPI 3.1 and lists exactly the routes the app serves', () => {
    expect(doc.openapi).to.equal('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]: [string, any]) => Object.keys(ops).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(servedRoutes(createApp(svc.rt, createLogger('silent')))).to.deep.equal(documented);
  });

  it('describes the real responses', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(5000) }]);
    expect(res.status).to.equal(201);
    const created = await res.json();
    validate('Message', created);
    validate('Message', await (await fetch(`${svc.url}/v1/messages/${created.id}`, { headers: auth })).json());
    const list = await (await fetch(`${svc.url}/v1/messages/${created.id}/evidence`, { headers: auth })).json();
    for (const item of list.items) validate('EvidenceSummary', item);
    validate('EvidenceWithStatement', await (await fetch(svc.url + list.items[0].href, { headers: { ...auth, accept: 'application/json' } })).json());
    const problem = await (await submit(svc, apiKey, metadata({ recipient: { type: 'citizen', id: '1' } }), [{ name: 'main', content: 'x' }])).json();
    validate('Problem', problem);
    validate('SubmissionMetadata', metadata());
  });

  it('lists every error code the service can return', () => {
    expect(doc.components.schemas.Problem.properties.code.enum).to.include.members(['RECIPIENT_INVALID', 'DOCUMENT_TOO_LARGE', 'TSA_UNAVAILABLE', 'UNAUTHENTICATED']);
  });
});
