using System.Diagnostics;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;

namespace Res2Net.Benchmarks;

/// <summary>
/// Where a forward's time goes, by layer type and by stage: every layer of a network's table timed twice, replayed
/// alone through the same kernels with the same literal shapes (its input and weights then in cache), and inside
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

        long largest = info.Layers.Max(l => Math.Max(l.InputShape.Aggregate(1L, (a, b) => a * b), l.OutputShape.Aggregate(1L, (a, b) => a * b)));
        long weights = info.Layers.Max(l => l.Params) + 4096;
        float[] w = GC.AllocateArray<float>((int)weights, pinned: true);
        float[][] buffers = Enumerable.Range(0, 4).Select(_ => GC.AllocateArray<float>((int)largest + Gemm.ReadSlack, pinned: true)).ToArray();

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
        fixed (float* pw = w, x = buffers[0], x2 = buffers[1], y = buffers[2], r = buffers[3])
        {
            for (int i = 0; i < count; i++)
            {
                var l = info.Layers[i];
                Action step = Replay(l, pw, x, x2, y, r);
                double ms = replayed[i] = Timed(step);
                string type = TypeOf(l);
                double macs = l.Kind == "conv" ? (double)l.OutputShape.Aggregate(1L, (a, b) => a * b) * l.InputShape[0] * l.Kernel * l.Kernel : 0;
                var t = byType.GetValueOrDefault(type);
                byType[type] = (t.Layers + 1, t.Ms + ms, t.Live + live[i], t.Macs + macs);
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
                double macs = l.Kind == "conv" ? (double)l.OutputShape.Aggregate(1L, (a, b) => a * b) * l.InputShape[0] * l.Kernel * l.Kernel : 0;
                output.WriteLine($"{l.Module,-24} {string.Join('x', l.InputShape),-12} -> {string.Join('x', l.OutputShape),-12} k{l.Kernel}s{l.Stride} " +
                    $"{replayed[i].ToString("F3", c)} {live[i].ToString("F3", c)} {(2 * macs / (live[i] * 1e6)).ToString("F0", c)}");
            }
        }
        return 0;
    }

    private static string TypeOf(LayerInfo l) => l.Kind switch
    {
        "conv" when l.Kernel == 7 => "stem 7×7 conv",
        "conv" when l.Kernel == 3 && l.Summed => "3×3 conv on sp + spx[i]",
        "conv" when l.Kernel == 3 && l.InputShape[0] == 3 => "deep-stem 3×3 conv",
        "conv" when l.Kernel == 3 && l.Module.Contains(".0.convs.", StringComparison.Ordinal) => "3×3 conv, a stage's first block",
        "conv" when l.Kernel == 3 => "3×3 conv on spx[0]",
        "conv" when l.Stride > 1 => "1×1 conv, stride 2 shortcut (gathered)",
        "conv" => "1×1 conv",
        "maxpool" => "max-pool",
        "avgpool" => "avg-pool",
        "gap" => "global average pool",
        _ => "fc",
    };

    private static Action Replay(LayerInfo l, float* w, float* x, float* x2, float* y, float* r)
    {
        int c = l.InputShape[0];
        int h = l.InputShape.Count > 1 ? l.InputShape[1] : 1, wd = l.InputShape.Count > 2 ? l.InputShape[2] : 1;
        int co = l.OutputShape[0];
        int oh = l.OutputShape.Count > 1 ? l.OutputShape[1] : 1, ow = l.OutputShape.Count > 2 ? l.OutputShape[2] : 1;
        bool residual = l.Description.Contains("identity", StringComparison.Ordinal);
        return l.Kind switch
        {
            "conv" => () => Gemm.Conv(w, w, x, l.Summed ? x2 : null, l.JoinedAt > 0 ? x2 : null, l.JoinedAt, y, residual ? r : null,
                !l.Module.Contains("downsample", StringComparison.Ordinal), co, c, h, wd, l.Kernel, l.Stride, l.Padding, oh, ow),
            "maxpool" => () => Pooling.Max(x, y, c, h, wd, l.Kernel, l.Stride, l.Padding, oh, ow),
            "avgpool" when l.Module.Contains("downsample", StringComparison.Ordinal) =>
                () => Pooling.AverageCeilExcludePad(x, y, c, h, wd, l.Kernel, l.Stride, l.Padding, oh, ow),
            "avgpool" => () => Pooling.AverageIncludePad(x, y, c, h, wd, l.Kernel, l.Stride, l.Padding, oh, ow),
            "gap" => () => Pooling.GlobalAverage(x, y, c, h * wd),
            _ => () => Linear.Forward(w, w, x, y, co, c),
        };
    }

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
