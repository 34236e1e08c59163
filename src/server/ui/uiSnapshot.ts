import { healthOf } from '../../health/healthOf.js';
import { healthReport, type HealthReportJson } from '../../health/report.js';
import type { Supervisor } from '../../supervisor/Supervisor.js';
import { statusBody, type StatusBody } from '../statusBody.js';

/** What the dashboard's live stream pushes: the bodies of GET /api/v1/status and GET /api/v1/health, built by the same functions. */
export interface UiSnapshot {
  status: StatusBody;
  /** Null when health checks are not wired. */
  health: HealthReportJson | null;
}

export async function uiSnapshot(sup: Supervisor, version: string): Promise<UiSnapshot> {
  const checker = healthOf(sup);
  return { status: await statusBody(sup, version), health: checker ? healthReport(checker, sup) ?? null : null };
}
