using System.Diagnostics;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;

namespace Res2Net.Benchmarks;

/// <summary>
/// Where a forward's time goes, by layer type: every layer of a network's table replayed through the same
/// kernels with the same literal shapes, timed on its own (best of several runs), then summed per type and set
/// beside a whole forward. A profiler's view without a profiler: the layer table says exactly what each step is.
/// </summary>
internal static unsafe class LayerProfile
{
    private const int Runs = 7;

    private const int WarmForwards = 30;

    public static int Run(string model, int threads, TextWriter output)
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
        double forward = Best(() => network.Forward(input, 1, logits));

        long largest = info.Layers.Max(l => Math.Max(l.InputShape.Aggregate(1L, (a, b) => a * b), l.OutputShape.Aggregate(1L, (a, b) => a * b)));
        long weights = info.Layers.Max(l => l.Params) + 4096;
        float[] w = GC.AllocateArray<float>((int)weights, pinned: true);
        float[][] buffers = Enumerable.Range(0, 4).Select(_ => GC.AllocateArray<float>((int)largest + Gemm.ReadSlack, pinned: true)).ToArray();

        var byType = new Dictionary<string, (int Layers, double Ms, double Macs)>();
        fixed (float* pw = w, x = buffers[0], x2 = buffers[1], y = buffers[2], r = buffers[3])
        {
            foreach (var l in info.Layers)
            {
                Action step = Replay(l, pw, x, x2, y, r);
                double ms = Best(step);
                string type = TypeOf(l);
                double macs = l.Kind == "conv" ? (double)l.OutputShape.Aggregate(1L, (a, b) => a * b) * l.InputShape[0] * l.Kernel * l.Kernel : 0;
                var t = byType.GetValueOrDefault(type);
                byType[type] = (t.Layers + 1, t.Ms + ms, t.Macs + macs);
            }
        }


        double sum = byType.Values.Sum(v => v.Ms);
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"{info.Name}, batch 1, {threads} thread(s): layers summed {sum.ToString("F2", c)} ms, whole forward {forward.ToString("F2", c)} ms");
        output.WriteLine();
        output.WriteLine("| layer type | layers | ms | share | GFLOP/s |");
        output.WriteLine("|---|--:|--:|--:|--:|");
        foreach (var (type, v) in byType.OrderByDescending(kv => kv.Value.Ms))
        {
            string rate = v.Macs > 0 ? (2 * v.Macs / (v.Ms * 1e6)).ToString("F0", c) : "";
            output.WriteLine($"| {type} | {v.Layers} | {v.Ms.ToString("F2", c)} | {(100 * v.Ms / sum).ToString("F1", c)} % | {rate} |");
        }
        return 0;
    }

    private static string TypeOf(LayerInfo l) => l.Kind switch
    {
        "conv" when l.Kernel == 7 => "stem 7×7 conv (gathered)",
        "conv" when l.Kernel == 3 && l.Summed => "3×3 conv on sp + spx[i] (gathered)",
        "conv" when l.Kernel == 3 && l.InputShape[0] == 3 => "deep-stem 3×3 conv (gathered)",
        "conv" when l.Kernel == 3 => "3×3 conv (gathered)",
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

    private static double Best(Action step)
    {
        step();
        step();
        double best = double.MaxValue;
        for (int i = 0; i < Runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return best;
    }
}
