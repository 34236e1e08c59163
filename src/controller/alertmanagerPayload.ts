import { z } from 'zod';

/** Most alerts one notification may carry; Alertmanager's `max_alerts` in the generated config is lower. */
export const MAX_ALERTS = 1000;

const labelSet = z.record(z.string().max(1024), z.string().max(16 * 1024));
const time = z.iso.datetime({ offset: true });

/** One alert of an Alertmanager webhook notification. */
export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet,
  startsAt: time,
  /** `0001-01-01T00:00:00Z` while the alert is firing with no known end. */
  endsAt: time,
  generatorURL: z.string().max(8192),
  fingerprint: z.string().min(1).max(128),
});

/**
 * The Alertmanager webhook payload, version 4 (Alertmanager 0.x), as documented in
 * its `webhook_config` reference. Unknown keys are ignored, missing or mistyped
 * ones are refused: anything but an Alertmanager notification is a 400.
 */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(16 * 1024),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string().max(8192),
  alerts: z.array(alertSchema).max(MAX_ALERTS),
});

export type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

export type ParsedPayload = { ok: true; payload: AlertmanagerPayload } | { ok: false; reason: string };

/**
 * Validates a parsed JSON body. The reason names the first problems by path,
 * e.g. ``alerts[0].fingerprint: expected string, got undefined``.
 */
export function parseAlertmanagerPayload(body: unknown): ParsedPayload {
  const r = alertmanagerPayloadSchema.safeParse(body);
  if (r.success) return { ok: true, payload: r.data };
  const problems = r.error.issues.slice(0, 3).map((i) => `${pathText(i.path) || '(body)'}: ${i.message}`);
  const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
  return { ok: false, reason: `not an Alertmanager webhook v4 payload: ${problems.join('; ')}${more}` };
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** The dedupe key of one alert instance: the same alert firing again later has a new startsAt. */
export const alertKey = (a: Pick<AlertmanagerAlert, 'fingerprint' | 'startsAt'>): string => `${a.fingerprint}@${a.startsAt}`;
