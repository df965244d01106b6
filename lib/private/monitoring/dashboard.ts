/**
 * Typed Cloud Monitoring dashboards: the subset of the Dashboard resource the pipeline uses, spelled as the Monitoring
 * API documents it (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards), helpers that lay
 * charts out on a mosaic grid, and {@link validateDashboard}, which checks a dashboard against the documented shape
 * (mosaicLayout → tiles → widget → xyChart → dataSets → timeSeriesQuery → timeSeriesFilter → aggregation) and the
 * documented rules of aligners and reducers, before it becomes `dashboard_json`.
 */
import { MetricInfo, METRICS, filterMetricType, validateFilter, ValueType, MetricKind } from './metrics';

/** Aligner enum, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#Aligner */
export const ALIGNERS = [
  'ALIGN_NONE', 'ALIGN_DELTA', 'ALIGN_RATE', 'ALIGN_INTERPOLATE', 'ALIGN_NEXT_OLDER', 'ALIGN_MIN', 'ALIGN_MAX', 'ALIGN_MEAN',
  'ALIGN_COUNT', 'ALIGN_SUM', 'ALIGN_STDDEV', 'ALIGN_COUNT_TRUE', 'ALIGN_COUNT_FALSE', 'ALIGN_FRACTION_TRUE',
  'ALIGN_PERCENTILE_99', 'ALIGN_PERCENTILE_95', 'ALIGN_PERCENTILE_50', 'ALIGN_PERCENTILE_05', 'ALIGN_PERCENT_CHANGE',
] as const;
/** Reducer enum, https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#Reducer */
export const REDUCERS = [
  'REDUCE_NONE', 'REDUCE_MEAN', 'REDUCE_MIN', 'REDUCE_MAX', 'REDUCE_SUM', 'REDUCE_STDDEV', 'REDUCE_COUNT', 'REDUCE_COUNT_TRUE',
  'REDUCE_COUNT_FALSE', 'REDUCE_FRACTION_TRUE', 'REDUCE_PERCENTILE_99', 'REDUCE_PERCENTILE_95', 'REDUCE_PERCENTILE_50', 'REDUCE_PERCENTILE_05',
] as const;
export type Aligner = (typeof ALIGNERS)[number];
export type Reducer = (typeof REDUCERS)[number];

/** DataSet.plotType, https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards#PlotType */
export const PLOT_TYPES = ['LINE', 'STACKED_AREA', 'STACKED_BAR', 'HEATMAP'] as const;
export type PlotType = (typeof PLOT_TYPES)[number];

export interface Aggregation {
  /** A duration in seconds (`"60s"`); Monitoring requires at least 60 s for most aligners. */
  readonly alignmentPeriod: string;
  readonly perSeriesAligner: Aligner;
  readonly crossSeriesReducer?: Reducer;
  readonly groupByFields?: readonly string[];
}

export interface TimeSeriesFilter {
  readonly filter: string;
  readonly aggregation: Aggregation;
}

export interface TimeSeriesFilterRatio {
  readonly numerator: TimeSeriesFilter;
  readonly denominator: TimeSeriesFilter;
}

export interface DataSet {
  readonly timeSeriesQuery: { readonly timeSeriesFilter?: TimeSeriesFilter; readonly timeSeriesFilterRatio?: TimeSeriesFilterRatio; readonly unitOverride?: string };
  readonly plotType: PlotType;
  readonly legendTemplate?: string;
  readonly targetAxis?: 'Y1' | 'Y2';
}

export interface XyChart {
  readonly dataSets: readonly DataSet[];
  readonly yAxis?: { readonly label?: string; readonly scale: 'LINEAR' | 'LOG10' };
  readonly chartOptions?: { readonly mode: 'COLOR' | 'X_RAY' | 'STATS' };
}

export interface Widget {
  readonly title: string;
  readonly xyChart?: XyChart;
  readonly text?: { readonly content: string; readonly format: 'MARKDOWN' | 'RAW' };
  readonly sectionHeader?: { readonly subtitle?: string; readonly dividerBelow?: boolean };
}

export interface Tile {
  readonly xPos: number;
  readonly yPos: number;
  readonly width: number;
  readonly height: number;
  readonly widget: Widget;
}

export interface Dashboard {
  readonly displayName: string;
  readonly mosaicLayout: { readonly columns: number; readonly tiles: readonly Tile[] };
  readonly labels?: Readonly<Record<string, string>>;
}

/** The grid of the dashboard: 48 columns is the documented maximum (MosaicLayout.columns is 1..48). */
export const GRID_COLUMNS = 48;
const CHART_WIDTH = 24;
const CHART_HEIGHT = 16;

export interface Series {
  readonly filter: string;
  readonly aggregation: Aggregation;
  readonly legend?: string;
  readonly plotType?: PlotType;
}

/** An xyChart widget with one data set per series. */
export function chart(title: string, series: readonly Series[], yLabel?: string): Widget {
  return {
    title,
    xyChart: {
      dataSets: series.map((s) => ({
        timeSeriesQuery: { timeSeriesFilter: { filter: s.filter, aggregation: s.aggregation } },
        plotType: s.plotType ?? 'LINE',
        ...(s.legend ? { legendTemplate: s.legend } : {}),
        targetAxis: 'Y1' as const,
      })),
      ...(yLabel ? { yAxis: { label: yLabel, scale: 'LINEAR' as const } } : {}),
      chartOptions: { mode: 'COLOR' },
    },
  };
}

/** A chart of one ratio (numerator / denominator, both aligned the same way), e.g. the share of 5xx responses. */
export function ratioChart(title: string, numerator: TimeSeriesFilter, denominator: TimeSeriesFilter, yLabel?: string): Widget {
  return {
    title,
    xyChart: {
      dataSets: [{ timeSeriesQuery: { timeSeriesFilterRatio: { numerator, denominator } }, plotType: 'LINE', targetAxis: 'Y1' }],
      ...(yLabel ? { yAxis: { label: yLabel, scale: 'LINEAR' as const } } : {}),
      chartOptions: { mode: 'COLOR' },
    },
  };
}

export function text(title: string, markdown: string): Widget {
  return { title, text: { content: markdown, format: 'MARKDOWN' } };
}

export function section(title: string, subtitle?: string): Widget {
  return { title, sectionHeader: { ...(subtitle ? { subtitle } : {}), dividerBelow: true } };
}

/**
 * Lays widgets out in reading order: section headers and texts take a full row, charts two per row.
 */
export function mosaic(displayName: string, widgets: readonly Widget[], labels?: Record<string, string>): Dashboard {
  const tiles: Tile[] = [];
  let y = 0;
  let x = 0;
  let rowHeight = 0;
  const newRow = (): void => {
    if (x > 0) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
  };
  for (const widget of widgets) {
    if (widget.sectionHeader || widget.text) {
      newRow();
      const height = widget.sectionHeader ? 4 : 8;
      tiles.push({ xPos: 0, yPos: y, width: GRID_COLUMNS, height, widget });
      y += height;
      continue;
    }
    tiles.push({ xPos: x, yPos: y, width: CHART_WIDTH, height: CHART_HEIGHT, widget });
    rowHeight = CHART_HEIGHT;
    x += CHART_WIDTH;
    if (x >= GRID_COLUMNS) newRow();
  }
  return { displayName, mosaicLayout: { columns: GRID_COLUMNS, tiles }, ...(labels ? { labels } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation against the documented shape

/**
 * Which aligners accept which input, as the Aligner enum documents it
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies#Aligner), and the value type each
 * produces (the input of the reducer).
 */
const ALIGNER_RULES: Partial<Record<Aligner, { kinds: readonly MetricKind[]; values: readonly ValueType[]; output: (v: ValueType) => ValueType }>> = {
  // "valid for CUMULATIVE and DELTA metrics with numeric and distribution values"
  ALIGN_DELTA: { kinds: ['CUMULATIVE', 'DELTA'], values: ['INT64', 'DOUBLE', 'DISTRIBUTION'], output: (v) => v },
  // "valid for CUMULATIVE and DELTA metrics with numeric and distribution values"; the output is DOUBLE
  ALIGN_RATE: { kinds: ['CUMULATIVE', 'DELTA'], values: ['INT64', 'DOUBLE', 'DISTRIBUTION'], output: () => 'DOUBLE' },
  // "valid for GAUGE metrics with numeric values"
  ALIGN_MIN: { kinds: ['GAUGE'], values: ['INT64', 'DOUBLE'], output: (v) => v },
  ALIGN_MAX: { kinds: ['GAUGE'], values: ['INT64', 'DOUBLE'], output: (v) => v },
  // "valid for GAUGE and DELTA metrics with numeric and distribution values"; the output is DOUBLE
  ALIGN_MEAN: { kinds: ['GAUGE', 'DELTA'], values: ['INT64', 'DOUBLE', 'DISTRIBUTION'], output: () => 'DOUBLE' },
  // "valid for GAUGE and DELTA metrics with numeric and distribution values"
  ALIGN_SUM: { kinds: ['GAUGE', 'DELTA'], values: ['INT64', 'DOUBLE', 'DISTRIBUTION'], output: (v) => v },
  // "valid for GAUGE metrics with Boolean values"; the output is INT64
  ALIGN_COUNT_TRUE: { kinds: ['GAUGE'], values: ['BOOL'], output: () => 'INT64' },
  ALIGN_COUNT_FALSE: { kinds: ['GAUGE'], values: ['BOOL'], output: () => 'INT64' },
  // "valid for GAUGE metrics"; keeps the value type
  ALIGN_NEXT_OLDER: { kinds: ['GAUGE'], values: ['BOOL', 'INT64', 'DOUBLE', 'STRING', 'DISTRIBUTION'], output: (v) => v },
  // "valid for GAUGE and DELTA metrics with distribution values"; the output is DOUBLE
  ALIGN_PERCENTILE_99: { kinds: ['GAUGE', 'DELTA'], values: ['DISTRIBUTION'], output: () => 'DOUBLE' },
  ALIGN_PERCENTILE_95: { kinds: ['GAUGE', 'DELTA'], values: ['DISTRIBUTION'], output: () => 'DOUBLE' },
  ALIGN_PERCENTILE_50: { kinds: ['GAUGE', 'DELTA'], values: ['DISTRIBUTION'], output: () => 'DOUBLE' },
};

/** Which value types each reducer accepts (Reducer enum, same page). */
const REDUCER_VALUES: Partial<Record<Reducer, readonly ValueType[]>> = {
  REDUCE_SUM: ['INT64', 'DOUBLE', 'DISTRIBUTION'],
  REDUCE_MEAN: ['INT64', 'DOUBLE', 'DISTRIBUTION', 'BOOL'],
  REDUCE_MAX: ['INT64', 'DOUBLE'],
  REDUCE_MIN: ['INT64', 'DOUBLE'],
  REDUCE_COUNT_TRUE: ['BOOL'],
  REDUCE_COUNT_FALSE: ['BOOL'],
  REDUCE_PERCENTILE_99: ['INT64', 'DOUBLE', 'DISTRIBUTION'],
  REDUCE_PERCENTILE_95: ['INT64', 'DOUBLE', 'DISTRIBUTION'],
  REDUCE_PERCENTILE_50: ['INT64', 'DOUBLE', 'DISTRIBUTION'],
  REDUCE_COUNT: ['BOOL', 'INT64', 'DOUBLE', 'STRING', 'DISTRIBUTION'],
};

const DURATION = /^[1-9][0-9]*s$/;
const GROUP_FIELD = /^(metric|resource)\.labels?\.[A-Za-z0-9_]+$/;

/** Problems of one aggregation for a metric (empty when it is valid). */
export function validateAggregation(where: string, aggregation: Aggregation | undefined, info: MetricInfo | undefined, filter: string): string[] {
  const problems: string[] = [];
  if (!aggregation) return [`${where}: aggregation is required (a chart of raw points of a DELTA or DISTRIBUTION metric shows nothing useful)`];
  if (!DURATION.test(aggregation.alignmentPeriod) || Number(aggregation.alignmentPeriod.slice(0, -1)) < 60) {
    problems.push(`${where}: alignmentPeriod must be a duration of at least 60 seconds such as "60s", got ${JSON.stringify(aggregation.alignmentPeriod)}`);
  }
  if (!(ALIGNERS as readonly string[]).includes(aggregation.perSeriesAligner)) problems.push(`${where}: perSeriesAligner ${aggregation.perSeriesAligner} is not an Aligner`);
  const reducer = aggregation.crossSeriesReducer;
  if (reducer !== undefined && !(REDUCERS as readonly string[]).includes(reducer)) problems.push(`${where}: crossSeriesReducer ${reducer} is not a Reducer`);
  // "If crossSeriesReducer is specified, then perSeriesAligner must be specified and not equal to ALIGN_NONE"
  if (reducer !== undefined && reducer !== 'REDUCE_NONE' && aggregation.perSeriesAligner === 'ALIGN_NONE') problems.push(`${where}: crossSeriesReducer needs a perSeriesAligner other than ALIGN_NONE`);
  // groupByFields: "The set of fields to preserve when crossSeriesReducer is specified"
  if (aggregation.groupByFields && aggregation.groupByFields.length > 0 && (reducer === undefined || reducer === 'REDUCE_NONE')) problems.push(`${where}: groupByFields without a crossSeriesReducer`);
  for (const field of aggregation.groupByFields ?? []) {
    if (!GROUP_FIELD.test(field)) problems.push(`${where}: groupByFields entry ${field} is not a metric.label.* or resource.label.* field`);
    else if (info) {
      const labelProblems = validateFilter(`metric.type = "${filterMetricType(filter)}" AND resource.type = "${info.resource}" AND ${field} = ""`, { [filterMetricType(filter) ?? '']: info });
      problems.push(...labelProblems.map((p) => `${where}: groupByFields: ${p}`));
    }
  }
  if (info) {
    const rule = ALIGNER_RULES[aggregation.perSeriesAligner];
    if (!rule) {
      problems.push(`${where}: perSeriesAligner ${aggregation.perSeriesAligner} is not one this project checks; add its documented rule`);
    } else {
      if (!rule.kinds.includes(info.kind) || !rule.values.includes(info.value)) {
        problems.push(`${where}: ${aggregation.perSeriesAligner} is not valid for a ${info.kind} ${info.value} metric (${filterMetricType(filter)})`);
      } else if (reducer !== undefined && reducer !== 'REDUCE_NONE') {
        const aligned = rule.output(info.value);
        const accepted = REDUCER_VALUES[reducer];
        if (!accepted) problems.push(`${where}: crossSeriesReducer ${reducer} is not one this project checks; add its documented rule`);
        else if (!accepted.includes(aligned)) problems.push(`${where}: ${reducer} is not valid for ${aligned} values (${aggregation.perSeriesAligner} of ${filterMetricType(filter)})`);
      }
    }
  }
  return problems;
}

function validateTimeSeriesFilter(where: string, f: TimeSeriesFilter | undefined, catalogue: Readonly<Record<string, MetricInfo>>): string[] {
  if (!f || typeof f.filter !== 'string') return [`${where}: filter is required`];
  const problems = validateFilter(f.filter, catalogue).map((p) => `${where}: ${p}`);
  const type = filterMetricType(f.filter);
  return problems.concat(validateAggregation(`${where}.aggregation`, f.aggregation, type ? catalogue[type] : undefined, f.filter));
}

const WIDGET_CONTENT = ['xyChart', 'scorecard', 'text', 'blank', 'alertChart', 'timeSeriesTable', 'collapsibleGroup', 'logsPanel', 'incidentList', 'pieChart', 'errorReportingPanel', 'sectionHeader', 'singleViewGroup'];
const DASHBOARD_KEYS = ['name', 'displayName', 'etag', 'dashboardFilters', 'labels', 'annotations', 'gridLayout', 'mosaicLayout', 'rowLayout', 'columnLayout'];

/**
 * Every problem of a dashboard against the documented Dashboard resource (empty when valid). Takes the parsed JSON,
 * so it checks exactly what `dashboard_json` will hold.
 */
export function validateDashboard(dashboard: unknown, catalogue: Readonly<Record<string, MetricInfo>> = METRICS): string[] {
  const problems: string[] = [];
  const d = dashboard as Dashboard & Record<string, unknown>;
  if (d === null || typeof d !== 'object') return ['dashboard is not an object'];
  for (const k of Object.keys(d)) if (!DASHBOARD_KEYS.includes(k)) problems.push(`dashboard: unknown field ${k}`);
  if (typeof d.displayName !== 'string' || d.displayName.length === 0) problems.push('dashboard: displayName is required');
  const layout = d.mosaicLayout;
  if (!layout) return problems.concat('dashboard: mosaicLayout is required');
  if (!Number.isInteger(layout.columns) || layout.columns < 1 || layout.columns > 48) problems.push(`mosaicLayout.columns must be 1..48, got ${layout.columns}`);
  const tiles = layout.tiles ?? [];
  if (tiles.length === 0) problems.push('mosaicLayout.tiles is empty');
  tiles.forEach((tile, i) => {
    const where = `tiles[${i}]`;
    for (const k of ['xPos', 'yPos', 'width', 'height'] as const) {
      if (!Number.isInteger(tile[k]) || tile[k] < 0) problems.push(`${where}.${k} must be a non-negative integer`);
    }
    if (tile.width < 1 || tile.height < 1) problems.push(`${where}: width and height must be at least 1`);
    if (tile.xPos + tile.width > layout.columns) problems.push(`${where}: xPos + width (${tile.xPos + tile.width}) exceeds the ${layout.columns} columns`);
    for (let j = 0; j < i; j++) {
      const o = tiles[j];
      if (tile.xPos < o.xPos + o.width && o.xPos < tile.xPos + tile.width && tile.yPos < o.yPos + o.height && o.yPos < tile.yPos + tile.height) problems.push(`${where} overlaps tiles[${j}]`);
    }
    const w = tile.widget as Widget & Record<string, unknown>;
    if (!w) {
      problems.push(`${where}: widget is required`);
      return;
    }
    const content = Object.keys(w).filter((k) => WIDGET_CONTENT.includes(k));
    if (content.length !== 1) problems.push(`${where}.widget must have exactly one content field, has ${content.length === 0 ? 'none' : content.join(', ')}`);
    for (const k of Object.keys(w)) if (k !== 'title' && k !== 'id' && !WIDGET_CONTENT.includes(k)) problems.push(`${where}.widget: unknown field ${k}`);
    if (w.text && (typeof w.text.content !== 'string' || !['MARKDOWN', 'RAW'].includes(w.text.format))) problems.push(`${where}.widget.text needs content and format MARKDOWN or RAW`);
    if (w.xyChart) {
      const sets = w.xyChart.dataSets ?? [];
      if (sets.length === 0) problems.push(`${where}.widget.xyChart.dataSets is empty`);
      sets.forEach((set, k) => {
        const at = `${where}.widget.xyChart.dataSets[${k}]`;
        if (!(PLOT_TYPES as readonly string[]).includes(set.plotType)) problems.push(`${at}.plotType ${set.plotType} is not a PlotType`);
        const q = set.timeSeriesQuery;
        const kinds = q ? ['timeSeriesFilter', 'timeSeriesFilterRatio', 'timeSeriesQueryLanguage', 'prometheusQuery'].filter((x) => x in q) : [];
        if (kinds.length !== 1) {
          problems.push(`${at}.timeSeriesQuery must have exactly one of timeSeriesFilter, timeSeriesFilterRatio, timeSeriesQueryLanguage, prometheusQuery`);
          return;
        }
        if (q.timeSeriesFilter) problems.push(...validateTimeSeriesFilter(`${at}.timeSeriesQuery.timeSeriesFilter`, q.timeSeriesFilter, catalogue));
        if (q.timeSeriesFilterRatio) {
          problems.push(...validateTimeSeriesFilter(`${at}.timeSeriesQuery.timeSeriesFilterRatio.numerator`, q.timeSeriesFilterRatio.numerator, catalogue));
          problems.push(...validateTimeSeriesFilter(`${at}.timeSeriesQuery.timeSeriesFilterRatio.denominator`, q.timeSeriesFilterRatio.denominator, catalogue));
        }
      });
    }
  });
  return problems;
}
