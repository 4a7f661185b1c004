/**
 * Metrics, reports, charts and the A/B runner. `simulate` and `reproduce` use them with the
 * simulated machine; `compare` feeds `compareOutcomes` with runs measured on a real kernel.
 */
export { runAB, runVariant, compareOutcomes, normaliseVariant, type AbOptions, type AbVariant, type ProgressSink } from './ab.js';
export { buildRunReport, turnaroundById, workloadHeader, type ComparisonReport, type ComparisonResult, type RunOutcome, type RunReport, type WorkloadHeader } from './report.js';
export { invocationMetrics, summarise, runCurves, splitBy, type InvocationMetrics, type RunCurves, type Summary } from './metrics.js';
export { percentileSorted, sortedCopy, mean, cdfPoints, histogramOverTime } from './stats.js';
export { formatComparison, textTable, fmtMs } from './table.js';
export { writeComparison, invocationsCsv } from './output.js';
export { comparisonCharts, renderSvg, cdfSpec, percentileSpec, switchesSpec, throughputSpec } from './charts.js';
export { terminalProgress } from './progress.js';
export { parseSchedulerList, KNOWN_SCHEDULERS } from './variants.js';
