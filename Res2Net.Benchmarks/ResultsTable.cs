using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Reports;
using Res2Net.Models;
using Res2Net.Runtime.Export;

namespace Res2Net.Benchmarks;

/// <summary>
/// One Markdown table across the run's summaries: per model and batch, both engines' times, their ratio, throughput,
/// the fraction of the peak that the FMA probe measured in the same run, bytes allocated per forward and the
/// network's activation memory. Printed and written beside BenchmarkDotNet's own results.
/// </summary>
internal static class ResultsTable
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static void Write(IReadOnlyList<Summary> summaries, TextWriter console, string loadBefore)
    {
        var reports = summaries.SelectMany(s => s.Reports).Where(r => r.Success && r.ResultStatistics != null).ToList();
        var forwards = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(ForwardBenchmarks)).ToList();
        if (forwards.Count == 0) return;

        var peaks = reports.Where(r => r.BenchmarkCase.Descriptor.Type == typeof(FmaPeakBenchmarks))
            .ToDictionary(r => (int)r.BenchmarkCase.Parameters["Threads"], r => FmaPeakBenchmarks.FlopsPerInvocation((int)r.BenchmarkCase.Parameters["Threads"]) / r.ResultStatistics!.Mean);
        double? peak = peaks.TryGetValue(ForwardBenchmarks.Threads, out var p) ? p : null; // FLOP per ns = GFLOP/s

        var text = new StringWriter();
        text.WriteLine($"Res2Net forward vs ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString(3)} " +
                       $"(both on {ForwardBenchmarks.Threads} threads; ORT_ENABLE_ALL), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Machine()}.");
        text.WriteLine($"Load average (1, 5, 15 min) before the run: {loadBefore}; after: {LoadAverage()} (the machine is shared: other processes compete for the {Environment.ProcessorCount} cores).");
        text.WriteLine(peaks.Count == 0
            ? "FMA probe not run (add it to the filter): no % of peak."
            : "Peak measured by the FMA probe (" + FmaPeakBenchmarks.Kind + "): " +
              string.Join(", ", peaks.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value.ToString("0", C)} GFLOP/s on {kv.Key} thread{(kv.Key == 1 ? "" : "s")}")) +
              $"; % of peak below is against {ForwardBenchmarks.Threads} threads. GFLOP/s count conv + fc arithmetic only (2 × MACs).");
        text.WriteLine();
        text.WriteLine("| model | batch | ours ms/image | ORT ms/image | ours / ORT | ours images/s | ORT images/s | ours GFLOP/s | ours % peak | ORT % peak | ours B alloc/forward | ORT B alloc/run | activations |");
        text.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var group in forwards.GroupBy(r => ((string)r.BenchmarkCase.Parameters["Model"], (int)r.BenchmarkCase.Parameters["Batch"])).OrderBy(g => Order(g.Key.Item1)).ThenBy(g => g.Key.Item2))
        {
            var (model, batch) = group.Key;
            var info = Res2NetModels.All.Single(m => m.ClassName == model);
            double flopPerImage = 2.0 * NetworkCost.ConvAndLinearMacs(info);
            var ours = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ForwardBenchmarks.Ours));
            var ort = group.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ForwardBenchmarks.OnnxRuntime));
            double? oursNs = ours?.ResultStatistics!.Mean, ortNs = ort?.ResultStatistics!.Mean;
            string Ms(double? ns) => ns is { } v ? (v / 1e6 / batch).ToString("0.0", C) : "-";
            string Ips(double? ns) => ns is { } v ? (batch / (v / 1e9)).ToString("0.0", C) : "-";
            string Gf(double? ns) => ns is { } v ? (flopPerImage * batch / v).ToString("0.0", C) : "-";
            string Pct(double? ns) => ns is { } v && peak is { } pk ? (100 * flopPerImage * batch / v / pk).ToString("0", C) + " %" : "-";
            string Alloc(BenchmarkReport? r) => r?.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) is { } b ? b.ToString("N0", C) : "-";
            string ratio = oursNs is { } a && ortNs is { } b ? (a / b).ToString("0.00", C) : "-";
            text.WriteLine($"| {info.Name.Split('_')[0]} | {batch} | {Ms(oursNs)} | {Ms(ortNs)} | {ratio} | {Ips(oursNs)} | {Ips(ortNs)} | {Gf(oursNs)} | {Pct(oursNs)} | {Pct(ortNs)} | " +
                           $"{Alloc(ours)} | {Alloc(ort)} | {(info.ActivationBytesHere / 1048576.0).ToString("0.0", C)} MiB |");
        }

        console.WriteLine();
        console.Write(text.ToString());
        string directory = summaries.First().ResultsDirectoryPath;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "Res2Net.Benchmarks-vs-onnxruntime.md");
        File.WriteAllText(path, text.ToString());
        console.WriteLine($"// written to {path}");
    }

    /// <summary>Smallest network first: by depth, then split width.</summary>
    private static (int, int) Order(string model)
    {
        var info = Res2NetModels.All.Single(m => m.ClassName == model);
        return (info.Depth, info.BaseWidth);
    }

    /// <summary>The first three fields of /proc/loadavg, or "n/a".</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>The CPU (model name and family: 25 is Zen 4, 26 Zen 5), cores, OS and .NET, for the head of a results table.</summary>
    internal static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var lines = File.ReadLines("/proc/cpuinfo").Take(30).ToList();
                string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
                cpu = (Field("model name") ?? cpu) + (Field("cpu family") is { } family ? $" (CPU family {family})" : "");
            }
        }
        catch (IOException)
        {
        }
        return $"{cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
