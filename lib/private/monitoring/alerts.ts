/**
 * Typed alert policy conditions (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#Condition):
 * a threshold (optionally a ratio, with `denominatorFilter`) or a metric absence, built from the same filters and
 * aggregations as the dashboard and validated by the same rules, then turned into `google_monitoring_alert_policy`
 * conditions.
 */
import type { MonitoringAlertPolicyConditions } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { Aggregation, validateAggregation } from './dashboard';
import { filterMetricType, MetricInfo, METRICS, validateFilter } from './metrics';

/** ComparisonType, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#ComparisonType */
export type Comparison = 'COMPARISON_GT' | 'COMPARISON_GE' | 'COMPARISON_LT' | 'COMPARISON_LE';

export interface ThresholdCondition {
  readonly kind: 'threshold';
  readonly displayName: string;
  readonly filter: string;
  readonly aggregation: Aggregation;
  /** A ratio: the filter's series divided by these (same alignment). */
  readonly denominator?: { readonly filter: string; readonly aggregation: Aggregation };
  readonly comparison: Comparison;
  readonly threshold: number;
  /** How long the comparison must hold, in seconds. */
  readonly durationSeconds: number;
}

export interface AbsentCondition {
  readonly kind: 'absent';
  readonly displayName: string;
  readonly filter: string;
  readonly aggregation: Aggregation;
  /** How long without a point before it fires, in seconds (the API allows 120 s to 86,400 s... in whole minutes). */
  readonly durationSeconds: number;
}

export type AlertCondition = ThresholdCondition | AbsentCondition;

export interface AlertSpec {
  /** Short id: the construct id of the policy and the key of its props. */
  readonly id: string;
  readonly displayName: string;
  readonly severity: 'CRITICAL' | 'ERROR' | 'WARNING';
  readonly condition: AlertCondition;
  /** The runbook line: what it means and what to do (the policy's documentation). */
  readonly runbook: string;
}

/** Problems of one alert spec against the metric catalogue and the documented condition rules. */
export function validateAlert(spec: AlertSpec, catalogue: Readonly<Record<string, MetricInfo>> = METRICS): string[] {
  const c = spec.condition;
  const where = `alert ${spec.id}`;
  const problems = validateFilter(c.filter, catalogue).map((p) => `${where}: ${p}`);
  const info = catalogue[filterMetricType(c.filter) ?? ''];
  problems.push(...validateAggregation(`${where}.aggregation`, c.aggregation, info, c.filter));
  if (c.kind === 'threshold' && c.denominator) {
    problems.push(...validateFilter(c.denominator.filter, catalogue).map((p) => `${where} denominator: ${p}`));
    const dInfo = catalogue[filterMetricType(c.denominator.filter) ?? ''];
    problems.push(...validateAggregation(`${where}.denominatorAggregation`, c.denominator.aggregation, dInfo, c.denominator.filter));
    if (c.denominator.aggregation.alignmentPeriod !== c.aggregation.alignmentPeriod) problems.push(`${where}: a ratio's numerator and denominator must use the same alignmentPeriod`);
  }
  // Condition durations are whole seconds; "must be a multiple of 60 seconds" for absence (MetricAbsence.duration).
  if (!Number.isInteger(c.durationSeconds) || c.durationSeconds < 0 || c.durationSeconds > 86400) problems.push(`${where}: duration must be 0..86400 seconds`);
  if (c.kind === 'absent' && (c.durationSeconds < 120 || c.durationSeconds % 60 !== 0)) problems.push(`${where}: an absence condition's duration must be a whole number of minutes, at least 2`);
  if (c.kind === 'threshold' && !Number.isFinite(c.threshold)) problems.push(`${where}: threshold must be a number`);
  if (spec.runbook.trim().length === 0) problems.push(`${where}: a runbook line is required`);
  return problems;
}

function aggregations(a: Aggregation): Array<{ alignmentPeriod: string; perSeriesAligner: string; crossSeriesReducer?: string; groupByFields?: string[] }> {
  return [{
    alignmentPeriod: a.alignmentPeriod,
    perSeriesAligner: a.perSeriesAligner,
    ...(a.crossSeriesReducer ? { crossSeriesReducer: a.crossSeriesReducer } : {}),
    ...(a.groupByFields ? { groupByFields: [...a.groupByFields] } : {}),
  }];
}

/** The provider's condition block for a spec. */
export function conditionBlock(c: AlertCondition): MonitoringAlertPolicyConditions {
  if (c.kind === 'absent') {
    return {
      displayName: c.displayName,
      conditionAbsent: { filter: c.filter, duration: `${c.durationSeconds}s`, aggregations: aggregations(c.aggregation), trigger: { count: 1 } },
    };
  }
  return {
    displayName: c.displayName,
    conditionThreshold: {
      filter: c.filter,
      comparison: c.comparison,
      thresholdValue: c.threshold,
      duration: `${c.durationSeconds}s`,
      aggregations: aggregations(c.aggregation),
      ...(c.denominator ? { denominatorFilter: c.denominator.filter, denominatorAggregations: aggregations(c.denominator.aggregation) } : {}),
      trigger: { count: 1 },
    },
  };
}
