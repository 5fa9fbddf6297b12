/** uPlot's stylesheet, fetched with uPlot itself (VitalsChart) rather than in the first screen's inline styles. */
import 'uplot/dist/uPlot.min.css';
