using BenchmarkDotNet.Running;
using Res2Net.Benchmarks;

// BenchmarkDotNet's own tables come first (one per class); then one table across classes that puts each
// forward next to ONNX Runtime's and next to the machine's peak, as measured by the FMA probe in the same run.
// `--profile MODEL [THREADS] [--layers]`: the per-layer-type account of one forward (LayerProfile), not a
// BenchmarkDotNet run; --layers also lists every layer.
if (args.Length >= 2 && args[0] == "--profile")
{
    var rest = args.Skip(2).ToList();
    bool layers = rest.Remove("--layers");
    int threads = rest.Count > 0 ? int.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture) : 2;
    return LayerProfile.Run(args[1], threads, layers, Console.Out);
}

// `--kernels [THREADS]`: specialized conv kernels against the fallback Gemm.Conv on five w14-s8 layers (KernelComparison).
if (args.Length >= 1 && args[0] == "--kernels")
    return KernelComparison.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2, Console.Out);

// `--memory make DIR | predict DIR | test DIR`: peak memory on very large images (DecodeMemory).
if (args.Length >= 1 && args[0] == "--memory")
    return DecodeMemory.Run(args[1..], Console.Out);

// `--serve-load [--seconds S] [--levels 1,8,32,128] [--soak-seconds T] …`: res2net serve under load on 127.0.0.1 (ServeLoad).
if (args.Length >= 1 && args[0] == "--serve-load")
    return ServeLoad.Run(args[1..], Console.Out);

string loadBefore = ResultsTable.LoadAverage();
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
ResultsTable.Write(summaries, Console.Out, loadBefore);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
