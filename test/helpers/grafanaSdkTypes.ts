import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './harness.js';

/**
 * Grafana's published dashboard schema in its npm form: the generated TypeScript
 * types of @grafana/grafana-foundation-sdk (the build for Grafana 10.4). A dashboard
 * is checked by compiling, in memory, a module that writes its JSON as a literal
 * with `satisfies` the SDK's types (so a misspelt key is an excess property), each
 * panel against the options and field config of its plugin.
 */
const SDK = '@grafana/grafana-foundation-sdk';

/** Panel type → the SDK module of its plugin; `custom` when the plugin has a field config. */
export const PLUGINS: Readonly<Record<string, { module: string; custom: boolean }>> = {
  timeseries: { module: 'timeseries', custom: true },
  'state-timeline': { module: 'statetimeline', custom: true },
  heatmap: { module: 'heatmap', custom: true },
  table: { module: 'table', custom: true },
  stat: { module: 'stat', custom: false },
  bargauge: { module: 'bargauge', custom: false },
};

/** Keys of the export envelope that Grafana's import reads and removes; they are not part of the dashboard model. */
export const EXPORT_ENVELOPE = ['__inputs', '__requires', '__elements'] as const;

/**
 * Where the SDK's generated types disagree with what Grafana 10.4 writes (cog's
 * translation of the CUE kinds), the checked type replaces one property. Each
 * correction carries a witness, JSON that Grafana 10.4 writes, and the SDK type it
 * is checked against unchanged: the check fails when the SDK accepts the witness
 * (the correction no longer applies and must go) or the corrected type rejects it.
 */
export interface TypeCorrection { name: string; because: string; witness: string; sdk: string; corrected: string }

export const TYPE_CORRECTIONS: readonly TypeCorrection[] = [
  {
    name: 'panel options and field config are partial',
    because: "cog makes every option with a CUE default (`showLegend: bool | *true`) required, but Grafana 10.4 fills each missing option from the plugin's defaults when it loads a panel (PanelModel.pluginLoaded), and writes only what a panel sets when provisioned",
    witness: '{ "legend": { "showLegend": false, "displayMode": "list", "placement": "bottom" } }',
    sdk: 'C.Json<timeseries.Options>', corrected: 'C.Options<timeseries.Options>',
  },
  {
    name: 'table footer.fields',
    because: 'Grafana 10.4 writes a new table\'s footer with `"fields": ""` (no field chosen: all numeric fields); cog types it as string[] only',
    witness: '{ "footer": { "show": false, "reducer": ["sum"], "fields": "", "countRows": false } }',
    sdk: 'C.Json<table.Options>', corrected: 'C.Options<C.TableOptions>',
  },
  {
    name: 'Panel.targets',
    because: 'cog types a target as cog.Dataquery, an interface with a method (_implementsDataqueryVariant) that no JSON can have; our panels query Prometheus, so a target is the Prometheus dataquery without that method',
    witness: '{ "refId": "A", "expr": "up", "datasource": { "type": "prometheus", "uid": "${datasource}" } }',
    sdk: 'cog.Dataquery', corrected: 'Target',
  },
  {
    name: 'FieldConfig.links',
    because: 'the CUE says `links?: [...]`; cog retypes it as a dashboard link (type, icon, tags… required), but a field link is a data link: title and url (grafana-data DataLink)',
    witness: '[{ "title": "Open", "url": "/d/x/y?var-agent=${__data.fields.agent}", "targetBlank": false }]',
    sdk: 'C.Json<dashboard.DashboardLink[]>', corrected: 'DataLink[]',
  },
  {
    name: 'VariableModel.definition',
    because: "Grafana writes a query variable's query text as `definition` too; the type lacks it (the Grafana 12 schema lists it)",
    witness: '{ "type": "query", "name": "agent", "query": { "query": "label_values(up, agent)", "refId": "A" }, "definition": "label_values(up, agent)" }',
    sdk: 'C.Json<dashboard.VariableModel>', corrected: 'Variable',
  },
  {
    name: 'AnnotationQuery (Prometheus fields)',
    because: 'Grafana 10.4 stores the Prometheus annotation query on the annotation itself (CUE: "datasources spread their query into the base object"): step, titleFormat, textFormat, tagKeys, useValueForTime; the type has only expr',
    witness: '{ "name": "Restarts", "datasource": { "type": "prometheus", "uid": "${datasource}" }, "enable": true, "iconColor": "red", "expr": "up", "step": "30s", "titleFormat": "t", "textFormat": "x", "tagKeys": "agent", "useValueForTime": false }',
    sdk: 'C.Json<dashboard.AnnotationQuery>', corrected: 'Annotation',
  },
];

const PRELUDE = `
import type * as cog from '${SDK}/cog';
import type * as dashboard from '${SDK}/dashboard';
import type * as prometheus from '${SDK}/prometheus';
import type * as common from '${SDK}/common';
${Object.values(PLUGINS).map((p) => `import type * as ${p.module} from '${SDK}/${p.module}';`).join('\n')}
export type { cog, dashboard, common, ${Object.values(PLUGINS).map((p) => p.module).join(', ')} };

/** The type as JSON writes it: a string enum member is its string (the SDK's enums are TypeScript enums). */
export type Json<T> = 0 extends 1 & T ? T
  : T extends string ? \`\${T}\`
  : T extends (infer U)[] ? Json<U>[]
  : T extends object ? { [K in keyof T as K extends '_implementsDataqueryVariant' ? never : K]: Json<T[K]> }
  : T;

/** Panel options and field config as a panel writes them: every member optional (the plugin's defaults fill the rest). */
export type Options<T> = 0 extends 1 & T ? T
  : T extends string ? \`\${T}\`
  : T extends (infer U)[] ? Options<U>[]
  : T extends object ? { [K in keyof T]?: Options<T[K]> }
  : T;

export type TableOptions = Omit<table.Options, 'footer'> & { footer?: Omit<common.TableFooterOptions, 'fields'> & { fields?: string[] | '' } };
export type Target = Json<prometheus.dataquery>;
export type DataLink = { title: string; url: string; targetBlank?: boolean; oneClick?: boolean };
export type Variable = Json<dashboard.VariableModel> & { definition?: string };
export type Annotation = Json<dashboard.AnnotationQuery> & { step?: string; titleFormat?: string; textFormat?: string; tagKeys?: string; useValueForTime?: boolean };

type FieldConfigOf<Custom> = Omit<Json<dashboard.FieldConfig>, 'links' | 'custom'> & { links?: DataLink[]; custom?: Options<Custom> };
/** A panel of one plugin: its options and field config instead of the SDK's \`any\`. */
export type PanelOf<Opts, Custom> = Omit<Json<dashboard.Panel>, 'targets' | 'options' | 'fieldConfig'> & {
  targets?: Target[];
  options?: Options<Opts>;
  fieldConfig?: Omit<Json<dashboard.FieldConfigSource>, 'defaults'> & { defaults: FieldConfigOf<Custom> };
};
/** A row; the panels in it are checked one by one, each against its own plugin. */
export type Row = Omit<Json<dashboard.RowPanel>, 'panels'> & { panels: unknown[] };
export type Dashboard = Omit<Json<dashboard.Dashboard>, 'panels' | 'templating' | 'annotations'> & {
  panels?: unknown[];
  templating: { list?: Variable[] };
  annotations: { list?: Annotation[] };
};
`;

/** A literal written out with the JSON path of every property and element, for mapping diagnostics back. */
interface Span { start: number; end: number; path: string }
class Writer {
  text = '';
  spans: Span[] = [];
  readonly problems: string[] = [];

  value(v: unknown, at: string, typeOf: (at: string, v: unknown) => string | undefined): void {
    const start = this.text.length;
    const type = typeOf(at, v);
    if (type) this.text += '(';
    if (Array.isArray(v)) {
      this.text += '[';
      v.forEach((x, i) => { if (i) this.text += ', '; this.value(x, `${at}/${i}`, typeOf); });
      this.text += ']';
    } else if (v !== null && typeof v === 'object') {
      this.text += '{';
      Object.entries(v).forEach(([k, x], i) => {
        if (i) this.text += ', ';
        const s = this.text.length;
        const p = `${at}/${k}`;
        this.text += `${JSON.stringify(k)}: `;
        this.value(x, p, typeOf);
        this.spans.push({ start: s, end: this.text.length, path: p });
      });
      this.text += '}';
    } else {
      this.text += JSON.stringify(v);
    }
    if (type) this.text += ` satisfies ${type})`;
    this.spans.push({ start, end: this.text.length, path: at });
  }

  pathAt(pos: number): string {
    let best: Span | undefined;
    for (const s of this.spans) if (s.start <= pos && pos < s.end && (!best || s.end - s.start < best.end - best.start)) best = s;
    return best?.path ?? '';
  }
}

type Json = Record<string, unknown>;
const PANEL_PATH = /^\/panels\/(\d+)(?:\/panels\/(\d+))?$/;

/** `(Which agent is unhealthy, and why)` for a path inside a panel. */
function panelTitle(model: Json, at: string): string {
  const m = /^\/panels\/(\d+)(?:\/panels\/(\d+))?/.exec(at);
  if (!m) return '';
  const outer = (model.panels as { title?: string; panels?: { title?: string }[] }[] | undefined)?.[Number(m[1])];
  return ` (${(m[2] === undefined ? outer?.title : outer?.panels?.[Number(m[2])]?.title) ?? 'untitled'})`;
}

export interface SdkCheckResult {
  /** Per dashboard name: one line per problem, `<json path> (<panel title>): <message>`. */
  problems: Map<string, string[]>;
  /** Per correction name: whether the unchanged SDK type still rejects the witness, and the corrected type accepts it. */
  corrections: Map<string, { sdkRejects: boolean; correctedAccepts: boolean }>;
  millis: number;
}

const VIRTUAL = path.join(ROOT, 'test/.grafana-sdk-check');
const OPTIONS: ts.CompilerOptions = {
  strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['lib.es2022.d.ts'],
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
};

/** Checks every dashboard (name → parsed JSON) in one program. */
export function checkWithSdkTypes(dashboards: ReadonlyMap<string, unknown>, corrections: readonly TypeCorrection[] = TYPE_CORRECTIONS): SdkCheckResult {
  const t0 = performance.now();
  const files = new Map<string, string>([[path.join(VIRTUAL, 'prelude.ts'), PRELUDE]]);
  const writers = new Map<string, { file: string; w: Writer; model: Json }>();
  let n = 0;
  for (const [name, dashboard] of dashboards) {
    const model = { ...(dashboard as Json) };
    for (const k of EXPORT_ENVELOPE) delete model[k];
    const w = new Writer();
    const typeOf = (at: string, v: unknown): string | undefined => {
      if (at === '') return 'C.Dashboard';
      if (!PANEL_PATH.test(at)) return undefined;
      const type = (v as { type?: unknown }).type;
      if (type === 'row' && !at.includes('/panels/', 1)) return 'C.Row';
      const plugin = typeof type === 'string' ? PLUGINS[type] : undefined;
      if (!plugin) { w.problems.push(`${at}/type${panelTitle(model, at)}: no SDK type for panel type ${JSON.stringify(type)} (add it to PLUGINS)`); return undefined; }
      const options = type === 'table' ? 'C.TableOptions' : `C.${plugin.module}.Options`;
      return `C.PanelOf<${options}, ${plugin.custom ? `C.${plugin.module}.FieldConfig` : 'Record<string, never>'}>`;
    };
    const header = `import type * as C from './prelude.js';\nexport const dashboard = `;
    w.text = header;
    w.value(model, '', typeOf);
    w.text += ';\n';
    const file = path.join(VIRTUAL, `dashboard${n++}.ts`);
    files.set(file, w.text);
    writers.set(name, { file, w, model });
  }
  const correctionFile = path.join(VIRTUAL, 'corrections.ts');
  // Two header lines, then per correction one line against the SDK's type and one against the corrected type.
  const lines: string[] = [`import type * as C from './prelude.js';\nimport type { cog, dashboard, table, timeseries } from './prelude.js';`];
  corrections.forEach((c, i) => {
    lines.push(`export const sdk${i} = (${c.witness}) satisfies ${c.sdk};`);
    lines.push(`export const corrected${i} = (${c.witness}) satisfies ${c.corrected.startsWith('C.') ? '' : 'C.'}${c.corrected};`);
  });
  files.set(correctionFile, lines.join('\n') + '\n');

  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = files.get(path.resolve(f));
    return text === undefined ? getSourceFile(f, lang, onError, create) : ts.createSourceFile(f, text, lang, true);
  };
  host.fileExists = (f) => files.has(path.resolve(f)) || fileExists(f);
  host.readFile = (f) => files.get(path.resolve(f)) ?? readFile(f);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => path.resolve(d) === VIRTUAL || (directoryExists?.(d) ?? true);
  const program = ts.createProgram([...files.keys()], OPTIONS, host);

  const problems = new Map<string, string[]>();
  for (const [name, { file, w, model }] of writers) {
    const out = [...w.problems];
    const source = program.getSourceFile(file);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const at = w.pathAt(d.start ?? 0);
      out.push(`${at || '/'}${panelTitle(model, at)}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
    problems.set(name, out.sort());
  }
  const preludeDiags = program.getSemanticDiagnostics(program.getSourceFile(path.join(VIRTUAL, 'prelude.ts')));
  if (preludeDiags.length) throw new Error(`the SDK's types no longer fit the prelude: ${preludeDiags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  const applied = new Map<string, { sdkRejects: boolean; correctedAccepts: boolean }>();
  const source = program.getSourceFile(correctionFile) as ts.SourceFile;
  const diags = program.getSemanticDiagnostics(source);
  const lineOf = (d: ts.Diagnostic): number => source.getLineAndCharacterOfPosition(d.start ?? 0).line;
  corrections.forEach((c, i) => {
    const sdkLine = 2 + 2 * i;
    applied.set(c.name, { sdkRejects: diags.some((d) => lineOf(d) === sdkLine), correctedAccepts: !diags.some((d) => lineOf(d) === sdkLine + 1) });
  });
  const unexpected = diags.filter((d) => lineOf(d) < 2);
  if (unexpected.length) throw new Error(unexpected.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; '));
  return { problems, corrections: applied, millis: performance.now() - t0 };
}
