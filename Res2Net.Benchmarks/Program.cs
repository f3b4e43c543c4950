using BenchmarkDotNet.Running;
using Res2Net.Benchmarks;

// BenchmarkDotNet's own tables come first (one per class); then one table across classes that puts each
// forward next to ONNX Runtime's and next to the machine's peak, as measured by the FMA probe in the same run.
string loadBefore = ResultsTable.LoadAverage();
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
ResultsTable.Write(summaries, Console.Out, loadBefore);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
