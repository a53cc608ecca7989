/** The HTML report: a typed view of an experiment's records, its sections, hand-drawn SVG charts, CSV export. */
export { writeReport, loadView, renderReport, reportSections, type ReportOptions, type ReportSummary } from './report.js';
export { ExperimentView, threatLabel, type ModelEntry, type AttackEntry } from './view.js';
export { tableToCsv, formatCell, type Table, type Column, type CellValue } from './table.js';
export { lineChart, type LineChartOptions, type LineSeries } from './charts/line-chart.js';
export { heatmap, type HeatmapOptions } from './charts/heatmap.js';
export { barChart, type BarChartOptions } from './charts/bar-chart.js';
export { encodePng, imageDataUrl, crc32 } from './png.js';
