export { escapeXml, renderLineChartSvg, type ChartPoint, type ChartSeries, type LineChartOptions, type VerticalMarker } from './line-chart-svg.js';
export { createProgressReporter, silentProgress, type ProgressReporter, type ProgressReporterOptions, type ProgressStream } from './progress-reporter.js';
