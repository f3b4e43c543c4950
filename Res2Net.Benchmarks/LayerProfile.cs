using System.Diagnostics;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;

namespace Res2Net.Benchmarks;

/// <summary>
/// Where a forward's time goes, by layer type and by stage: every layer of a network's table timed twice, replayed
/// alone through the network's own call for it (<see cref="CompiledNetwork.ReplayLayer"/>: the same kernel, layer type
/// and operands as in the forward, its input and weights then in cache), and inside
/// real forwards (stamped by <see cref="LayerClock"/> as each kernel returns), medians of several runs each, then
/// summed and set beside a whole forward. A profiler's view without a profiler: the layer table says exactly what
/// each step is.
/// </summary>
internal static unsafe class LayerProfile
{
    private const int Runs = 7;

    private const int WarmForwards = 30;

    public static int Run(string model, int threads, bool everyLayer, TextWriter output)
    {
        var info = Res2NetModels.All.FirstOrDefault(m => m.Name == model || m.ClassName == model || m.Name.StartsWith(model, StringComparison.Ordinal));
        if (info == null)
        {
            output.WriteLine($"unknown model '{model}'; known: {string.Join(", ", Res2NetModels.All.Select(m => m.Name))}");
            return 2;
        }
        Workers.MaxThreads = threads;

        // The whole forward first, run often enough that every kernel is at its final JIT tier before layers are timed.
        var network = Res2NetModels.Create(info.Name);
        network.Load(SeededWeights.StateDict(info), "seeded");
        var input = SeededWeights.Input(info);
        var logits = new float[info.NumClasses];
        for (int i = 0; i < WarmForwards; i++) network.Forward(input, 1, logits);
        double forward = Timed(() => network.Forward(input, 1, logits));

        // The same layers timed inside real forwards: each layer's end is stamped as its kernel returns.
        int count = info.Layers.Count;
        var marks = new long[count + 1];
        var inForward = new double[Runs][];
        for (int run = 0; run < Runs; run++)
        {
            LayerClock.Arm(marks);
            network.Forward(input, 1, logits);
            LayerClock.Disarm();
            inForward[run] = Enumerable.Range(0, count).Select(i => (marks[i + 1] - marks[i]) * 1000.0 / Stopwatch.Frequency).ToArray();
        }
        double[] live = Enumerable.Range(0, count).Select(i => Median(inForward.Select(r => r[i]))).ToArray();

        var byType = new Dictionary<string, (int Layers, double Ms, double Live, double Macs)>();
        var replayed = new double[count];
        fixed (float* px = input, py = logits)
        {
            nint x = (nint)px, y = (nint)py;
            for (int i = 0; i < count; i++)
            {
                var l = info.Layers[i];
                int index = i;
                double ms = replayed[i] = Timed(() => network.ReplayLayer(index, (float*)x, (float*)y));
                string type = TypeOf(l);
                var t = byType.GetValueOrDefault(type);
                byType[type] = (t.Layers + 1, t.Ms + ms, t.Live + live[i], t.Macs + l.MultiplyAdds);
            }
        }

        double sum = byType.Values.Sum(v => v.Ms), liveSum = byType.Values.Sum(v => v.Live);
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"{info.Name}, batch 1, {threads} thread(s): layers replayed alone {sum.ToString("F2", c)} ms, " +
            $"the same layers inside a forward {liveSum.ToString("F2", c)} ms (median of {Runs}), whole forward {forward.ToString("F2", c)} ms (median of {Runs})");
        output.WriteLine();
        output.WriteLine("| layer type | layers | alone ms | GFLOP/s | in forward ms | share | GFLOP/s |");
        output.WriteLine("|---|--:|--:|--:|--:|--:|--:|");
        foreach (var (type, v) in byType.OrderByDescending(kv => kv.Value.Live))
        {
            string rate = v.Macs > 0 ? (2 * v.Macs / (v.Ms * 1e6)).ToString("F0", c) : "";
            string liveRate = v.Macs > 0 ? (2 * v.Macs / (v.Live * 1e6)).ToString("F0", c) : "";
            output.WriteLine($"| {type} | {v.Layers} | {v.Ms.ToString("F2", c)} | {rate} | {v.Live.ToString("F2", c)} | " +
                $"{(100 * v.Live / liveSum).ToString("F1", c)} % | {liveRate} |");
        }
        output.WriteLine();
        output.WriteLine("| stage | alone ms | in forward ms | weights MiB |");
        output.WriteLine("|---|--:|--:|--:|");
        foreach (var stage in Enumerable.Range(0, count).GroupBy(i => StageOf(info.Layers[i].Module)))
        {
            double mib = stage.Sum(i => (double)info.Layers[i].Params) * 4 / (1 << 20);
            output.WriteLine($"| {stage.Key} | {stage.Sum(i => replayed[i]).ToString("F2", c)} | {stage.Sum(i => live[i]).ToString("F2", c)} | {mib.ToString("F1", c)} |");
        }
        output.WriteLine();
        output.WriteLine("Layers that lose most inside a forward:");
        output.WriteLine();
        output.WriteLine("| layer | alone ms | in forward ms |");
        output.WriteLine("|---|--:|--:|");
        foreach (int i in Enumerable.Range(0, count).OrderByDescending(i => live[i] - replayed[i]).Take(12))
        {
            output.WriteLine($"| {info.Layers[i].Module} | {replayed[i].ToString("F3", c)} | {live[i].ToString("F3", c)} |");
        }
        if (everyLayer)
        {
            output.WriteLine();
            output.WriteLine("Every layer: module, input -> output shape, kernel and stride, alone ms, in-forward ms, GFLOP/s in the forward");
            for (int i = 0; i < count; i++)
            {
                var l = info.Layers[i];
                double macs = l.MultiplyAdds;
                output.WriteLine($"{l.Module,-24} {string.Join('x', l.InputShape),-12} -> {string.Join('x', l.OutputShape),-12} k{l.Kernel}s{l.Stride} " +
                    $"{replayed[i].ToString("F3", c)} {live[i].ToString("F3", c)} {(2 * macs / (live[i] * 1e6)).ToString("F0", c)}");
            }
        }
        return 0;
    }

    /// <summary>A row of the by-type table: what the layer table says the layer is, and the algorithm that runs it here.</summary>
    private static string TypeOf(LayerInfo l) => l.Kind switch
    {
        LayerKind.Conv when l.InputShape[0] == 3 => $"stem {l.Kernel}×{l.Kernel} conv ({Algorithm(l)})",
        LayerKind.Conv when l.Fusions.HasFlag(LayerFusions.InputSum) => $"{l.Kernel}×{l.Kernel} conv on sp + spx[i] ({Algorithm(l)})",
        LayerKind.Conv when l.Kernel == 3 && l.Stride == 2 => $"3×3 conv, stride 2 ({Algorithm(l)})",
        LayerKind.Conv when l.Kernel == 3 => $"3×3 conv ({Algorithm(l)})",
        LayerKind.Conv when l.Fusions.HasFlag(LayerFusions.ShortcutConv) => $"1×1 conv3 + shortcut conv{(l.TailStride > 1 ? $" (stride {l.TailStride})" : "")}",
        LayerKind.Conv when l.Fusions.HasFlag(LayerFusions.Residual) => "1×1 conv3 + identity",
        LayerKind.Conv when l.Stride > 1 => "1×1 conv, stride 2 shortcut (gathered)",
        LayerKind.Conv => "1×1 conv",
        LayerKind.MaxPool => "max-pool",
        LayerKind.AvgPool or LayerKind.AvgPoolCeil => "avg-pool",
        LayerKind.GlobalAveragePool => "global average pool",
        _ => "fc",
    };

    private static string Algorithm(LayerInfo l) => l.ScheduleHere?.Algorithm ?? "?";

    private static string StageOf(string module) =>
        module.StartsWith("layer", StringComparison.Ordinal) ? module[..module.IndexOf('.')] : "stem, head";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>The median of <see cref="Runs"/> timed runs after two untimed ones: the same statistic as the in-forward times, so the two compare.</summary>
    private static double Timed(Action step)
    {
        step();
        step();
        var times = new double[Runs];
        for (int i = 0; i < Runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Median(times);
    }
}
