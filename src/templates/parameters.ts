/**
 * What a Handlebars source asks of its parameters, read from its syntax tree: every root-level
 * name it mentions, and the ones it cannot render without. Also the syntax gate: only the built-in
 * helpers, no partials, decorators or mustache-style sections ({{#list}}…{{/list}}), whose meaning
 * changes with the value passed (loop, condition or context) and so cannot be checked up front.
 */

export interface Analysis {
  /** Root-level parameter paths the source mentions ('user.name'), sorted. */
  names: string[];
  /**
   * Paths that must be present whatever the values: those printed outside any block, and the
   * objects a block or `lookup` reads a property of. A name inside {{#if}} or {{#each}} is not
   * required up front; rendering still fails (strict mode) when that branch runs without it.
   */
  required: string[];
}

/** Block helpers; `each` and `with` change the context that `{{name}}` resolves against. */
const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const CONTEXT_HELPERS = new Set(['each', 'with']);

interface Scope {
  /** Context-changing blocks around this point: a path resolves at root when its `../` count reaches it. */
  depth: number;
  conditional: boolean;
  blockParams: ReadonlySet<string>;
}

export function analyseProgram(program: hbs.AST.Program): Analysis {
  const names = new Set<string>();
  const required = new Set<string>();

  const rootPath = (path: hbs.AST.PathExpression, scope: Scope): string[] | null => {
    if (path.data) return path.parts[0] === 'root' && path.parts.length > 1 ? path.parts.slice(1) : null;
    if (path.parts.length === 0) return null;
    if (path.depth === 0 && scope.blockParams.has(path.parts[0]!)) return null;
    return path.depth >= scope.depth ? path.parts : null;
  };

  /** A printed value: strict mode requires the whole path. */
  const printed = (path: hbs.AST.PathExpression, scope: Scope) => {
    const parts = rootPath(path, scope);
    if (!parts) return;
    names.add(parts.join('.'));
    if (!scope.conditional) required.add(parts.join('.'));
  };

  /** A helper argument: looked up leniently, except that every object it reads through must exist. */
  const argument = (expr: hbs.AST.Expression, scope: Scope) => {
    if (expr.type === 'SubExpression') return call(expr as hbs.AST.SubExpression, scope);
    if (expr.type !== 'PathExpression') return;
    const parts = rootPath(expr as hbs.AST.PathExpression, scope);
    if (!parts) return;
    names.add(parts.join('.'));
    if (!scope.conditional && parts.length > 1) required.add(parts.slice(0, -1).join('.'));
  };

  const call = (node: { path: hbs.AST.PathExpression | hbs.AST.Literal; params: hbs.AST.Expression[]; hash?: hbs.AST.Hash }, scope: Scope) => {
    const name = helperName(node.path);
    if (name !== 'lookup') throw new Error(`unknown helper ${name}: only if, unless, each, with and lookup exist`);
    for (const p of node.params) argument(p, scope);
    for (const pair of node.hash?.pairs ?? []) argument(pair.value, scope);
  };

  const visit = (body: hbs.AST.Statement[], scope: Scope): void => {
    for (const statement of body) {
      switch (statement.type) {
        case 'ContentStatement':
        case 'CommentStatement':
          break;
        case 'MustacheStatement': {
          const m = statement as hbs.AST.MustacheStatement;
          if (m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0) call(m, scope);
          else if (m.path.type === 'PathExpression') printed(m.path as hbs.AST.PathExpression, scope);
          break;
        }
        case 'BlockStatement': {
          const b = statement as hbs.AST.BlockStatement;
          const name = helperName(b.path);
          if (!BLOCK_HELPERS.has(name)) throw new Error(`{{#${name}}} is a section; write {{#each ${name}}}, {{#with ${name}}} or {{#if ${name}}}`);
          if (b.params.length !== 1) throw new Error(`{{#${name}}} takes exactly one argument`);
          argument(b.params[0]!, scope);
          const inner: Scope = CONTEXT_HELPERS.has(name)
            ? { depth: scope.depth + 1, conditional: true, blockParams: new Set([...scope.blockParams, ...(b.program?.blockParams ?? [])]) }
            : { ...scope, conditional: true };
          if (b.program) visit(b.program.body, inner);
          if (b.inverse) visit(b.inverse.body, { ...scope, conditional: true });
          break;
        }
        default:
          // Partials and decorators: nothing is registered, so they could only fail at send time.
          throw new Error(`${statement.type.replace(/Statement$/, '').toLowerCase()}s are not supported`);
      }
    }
  };

  visit(program.body, { depth: 0, conditional: false, blockParams: new Set(program.blockParams ?? []) });
  return { names: [...names].sort(), required: [...required].sort() };
}

function helperName(path: hbs.AST.PathExpression | hbs.AST.Literal): string {
  return path.type === 'PathExpression' ? (path as hbs.AST.PathExpression).original : String((path as { original?: unknown }).original);
}

/** True when `path` ('a.b') is present in params: every step an own property, the steps before it objects, the value not null (which renders as missing). */
export function hasPath(params: Record<string, unknown>, path: string): boolean {
  let current: unknown = params;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return false;
    current = (current as Record<string, unknown>)[key];
  }
  return current !== null;
}
