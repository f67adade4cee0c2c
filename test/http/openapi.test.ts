import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requiredScope } from '../../src/http/scopes.ts';
import { startTestHerald } from '../support/herald.ts';
import type { Harness } from './helpers.ts';

type Operation = { responses?: Record<string, unknown>; security?: unknown[]; parameters?: { name: string; in: string }[] };
type Document = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: Record<string, unknown> } };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** fastify's `/v1/users/:userId` is OpenAPI's `/v1/users/{userId}`; a trailing wildcard is `{*}`. */
const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');

describe('the OpenAPI document', () => {
  let h: Harness;
  let doc: Document;
  before(async () => {
    h = await startTestHerald();
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    doc = res.json<Document>();
  });
  after(async () => {
    await h.close();
  });

  it('is OpenAPI 3.1 with info, paths and the bearer security scheme', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.ok(doc.info.title && doc.info.version);
    assert.ok(Object.keys(doc.paths).length > 0);
    assert.deepEqual(doc.components?.securitySchemes?.appKey, { type: 'http', scheme: 'bearer', description: 'An app token (<appKey>.<secret>) from POST /v1/apps, or the bootstrap key' });
  });

  it('every operation is well-formed: responses with 3-digit codes, declared path parameters, security where a key is needed', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.ok(path.startsWith('/'), path);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(METHODS.includes(method), `${path}: ${method} is not an HTTP method`);
        const codes = Object.keys(op.responses ?? {});
        assert.ok(codes.length > 0, `${method} ${path} has no responses`);
        for (const code of codes) assert.match(code, /^([1-5]\d\d|default)$/, `${method} ${path}: ${code}`);
        for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
          assert.ok(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${method} ${path} declares path parameter ${name}`);
        }
        if (requiredScope(method.toUpperCase(), path.replace(/\{([^}]+)\}/g, ':$1'))) assert.deepEqual(op.security, [{ appKey: [] }], `${method} ${path} needs a key`);
      }
    }
  });

  it('covers every registered route (except HEAD twins and hidden doc assets), and nothing else', () => {
    const registered = h.app.registeredRoutes.filter((r) => r.method !== 'HEAD' && !r.hidden);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
    const expected = new Set(registered.map((r) => `${r.method} ${toOpenApiPath(r.url)}`));
    assert.deepEqual([...expected].filter((r) => !documented.has(r)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((r) => !expected.has(r)), [], 'documented routes that do not exist');
    for (const must of ['POST /v1/notifications', 'POST /v1/apps', 'GET /metrics', 'GET /ready']) assert.ok(documented.has(must), must);
  });

  it('is served with a UI at /docs', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Swagger UI/);
  });
});
