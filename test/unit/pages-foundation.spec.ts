/**
 * The pages' foundation: the escaping template, the page paths, the language choice, the
 * safe `next` of a sign-in.
 */
import { expect } from 'chai';
import { html, raw } from '../../src/http/pages/html.js';
import { fromAcceptLanguage } from '../../src/http/pages/i18n.js';
import { isPagePath, PAGE_PATHS } from '../../src/http/pages/paths.js';
import { pageCsp } from '../../src/http/pages/layout.js';
import { safeNext } from '../../src/http/pages/session.js';

describe('pages foundation', () => {
  it('html`` escapes every interpolation unless it is a fragment', () => {
    const evil = `<script>alert("x")</script>&'\``;
    expect(html`<p title="${evil}">${evil}</p>`.value).to.equal(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`, 3]}</ul>`.value).to.equal('<ul>&lt;a&gt;<li>&lt;b&gt;</li>3</ul>');
    expect(html`${raw('<hr>')}${null}${undefined}${false}`.value).to.equal('<hr>');
  });

  it('page paths: / exactly, the others as whole-segment prefixes', () => {
    expect(PAGE_PATHS).to.include.members(['/', '/ebox', '/console', '/verify', '/signin', '/signout', '/pages']);
    for (const p of ['/', '/ebox', '/ebox/{id}', '/console/x', '/verify', '/signin/callback', '/signout', '/pages/assets/pages.0.css']) expect(isPagePath(p), p).to.equal(true);
    for (const p of ['/v1/ebox/messages', '/eboxes', '/healthz', '/openapi.json', '/signing', '/verifyx']) expect(isPagePath(p), p).to.equal(false);
  });

  it('Accept-Language: the best of ours by quality, then order; none of ours: undefined', () => {
    expect(fromAcceptLanguage('de-BE,de;q=0.9,en;q=0.5')).to.equal('de');
    expect(fromAcceptLanguage('es, fr;q=0.2, nl;q=0.8')).to.equal('nl');
    expect(fromAcceptLanguage('es, it')).to.equal(undefined);
    expect(fromAcceptLanguage('fr;q=0, en;q=0.1')).to.equal('en');
    expect(fromAcceptLanguage(undefined)).to.equal(undefined);
  });

  it('next: same-origin relative paths only', () => {
    expect(safeNext('/ebox/abc?lang=fr')).to.equal('/ebox/abc?lang=fr');
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'ebox', '/\u0000x', '/x\ny', '', 42, undefined, `/${'a'.repeat(2000)}`]) {
      expect(safeNext(bad), String(bad)).to.equal('/');
    }
    expect(safeNext('/a/../../b')).to.equal('/b');
  });

  it('a page CSP names no script and no inline style, and the form origins given', () => {
    const csp = pageCsp(['https://idp.example']);
    expect(csp).to.equal("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' https://idp.example; frame-ancestors 'none'; base-uri 'none'");
    expect(csp).not.to.match(/unsafe-/);
  });
});

describe('pages: error pages', () => {
  it('a 5xx is a page in the person\'s language with a reference, its detail for the log only; a 4xx keeps its status', async () => {
    const express = (await import('express')).default;
    const { ServiceError } = await import('../../src/domain/errors.js');
    const { pageErrorHandler } = await import('../../src/http/pages/errors.js');
    const { createLogger } = await import('../../src/logger.js');
    const lines: string[] = [];
    const app = express();
    app.get('/boom', () => {
      throw new Error('the secret detail of a failure');
    });
    app.get('/gone', () => {
      throw new ServiceError('NOT_FOUND', 'no such letter');
    });
    app.use(pageErrorHandler(createLogger('info', { write: (l: string) => void lines.push(l) })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const boom = await fetch(`${base}/boom`, { headers: { 'accept-language': 'fr-BE,fr;q=0.9' } });
      expect(boom.status).to.equal(500);
      expect(boom.headers.get('content-type')).to.match(/^text\/html/);
      expect(boom.headers.get('content-security-policy')).to.match(/^default-src 'none'/);
      const body = await boom.text();
      expect(body).to.include('<html lang="fr">');
      expect(body).to.include('Une erreur est survenue');
      expect(body).not.to.include('secret detail');
      const reference = /Référence: <code>([0-9a-f-]{36})<\/code>/.exec(body);
      expect(reference, body).to.not.equal(null);
      const logged = lines.map((l) => JSON.parse(l)).find((l) => l.correlationId === reference![1]);
      expect(logged?.err?.cause?.message ?? JSON.stringify(logged)).to.include('secret detail');
      const gone = await fetch(`${base}/gone?lang=de`);
      expect(gone.status).to.equal(404);
      const g = await gone.text();
      expect(g).to.include('<html lang="de">');
      expect(g).to.include('data-code="NOT_FOUND"');
      expect(g.match(/<h1>/g)).to.have.length(1);
    } finally {
      server.close();
    }
  });
});
