using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Export;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>res2net bench</c>: a quick timing of one network's forward, optionally side by side with ONNX Runtime on the
/// same weights and input (exported in-process). Res2Net.Benchmarks is the careful version (BenchmarkDotNet).
/// </summary>
internal static class BenchCommand
{
    public const string OnnxRuntime = "onnxruntime";

    /// <summary>
    /// How far the two engines' logits may be apart: each is within 2e-3 of PyTorch (the product's promise,
    /// float32 summed in different orders), so they are within twice that of each other.
    /// </summary>
    public const double AgreementTolerance = 4e-3;

    public static Command Create(TextWriter stdout)
    {
        var model = ModelOptions.Model();
        var device = ModelOptions.Device();
        var batch = new Option<int>("--batch", "-b") { Description = $"Images per forward, 1 to {CliLimits.MaxBatch}.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads", "-t")
        {
            Description = "Threads for both engines: the compiled network's workers and ONNX Runtime's intra-op pool. Default: the number of cores; at most " + CliLimits.MaxThreads + ".",
            DefaultValueFactory = _ => Math.Min(Environment.ProcessorCount, CliLimits.MaxThreads),
        };
        var compare = new Option<string?>("--compare") { Description = "Also time another engine on the same weights and input: onnxruntime." };
        var checkpoint = new Option<FileInfo?>("--checkpoint", "-c")
        {
            HelpName = ModelOptions.CheckpointHelpName,
            Description = "Checkpoint to run: a file, or an http(s) URL fetched once into the cache. Default: the deterministic seeded weights (docs/seeded-weights.md).",
        };
        var iterations = new Option<int>("--iterations", "-n") { Description = "Timed forwards per engine (with --compare, taken in alternating pairs, ours then theirs, theirs then ours).", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards per engine first.", DefaultValueFactory = _ => 2 };
        var profile = new Option<bool>("--profile")
        {
            Description = "With --device cuda or ilgpu-cpu: then run one more forward kernel by kernel (each launch waited for) and print the time, " +
                          "groups and barriers per kernel kind (conv signature and tile, pool, head), slowest first.",
        };

        var command = new Command("bench", "Time a network's forward (ms per image, images/s, GFLOP/s), optionally against ONNX Runtime on the same weights.")
        {
            model, device, batch, threads, compare, checkpoint, iterations, warmup, profile,
        };
        command.SetAction(parse =>
        {
            int n = CliLimits.Check("--batch", parse.GetValue(batch), 1, CliLimits.MaxBatch);
            int t = CliLimits.Check("--threads", parse.GetValue(threads), 1, CliLimits.MaxThreads);
            int runs = CliLimits.Check("--iterations", parse.GetValue(iterations), 1, CliLimits.MaxIterations);
            int warm = CliLimits.Check("--warmup", parse.GetValue(warmup), 0, CliLimits.MaxIterations);
            string? peer = parse.GetValue(compare);
            bool profiled = parse.GetValue(profile);
            if (profiled && parse.GetRequiredValue(device) == "cpu")
            {
                throw new CliException("--profile times a device's kernels: use it with --device cuda or --device ilgpu-cpu.");
            }
            if (peer != null && !peer.Equals(OnnxRuntime, StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"--compare {peer}: the only engine to compare with is '{OnnxRuntime}'.");
            }

            Workers.MaxThreads = t;
            var network = Res2NetModels.Create(parse.GetRequiredValue(model));
            var info = network.Info;
            string source;
            Func<byte[]> exportOnnx;
            if (parse.GetValue(checkpoint) is { } file)
            {
                string path = CheckpointLocator.ResolveFile(file, parse.InvocationConfiguration.Error);
                var stateDict = CheckpointReader.Read(path);
                network.Load(stateDict);
                source = Path.GetFileName(path);
                exportOnnx = () => ToBytes(stream => OnnxExporter.Export(info, stateDict, stream));
            }
            else
            {
                var tensors = SeededWeights.StateDict(info);
                network.Load(tensors, "seeded");
                source = "seeded weights";
                exportOnnx = () => OnnxExporter.ExportToBytes(info, tensors);
            }

            var input = SeededWeights.Input(info, n);
            var ours = new float[n * info.NumClasses];
            // On a device, the CPU's logits first (the compiled C# CI checks against PyTorch): a device that disagrees is not timed.
            float[]? onCpu = parse.GetRequiredValue(device) == "cpu" ? null : network.Forward(input, n);
            using var onDevice = DeviceChoice.Use(network, parse.GetRequiredValue(device), n, parse.InvocationConfiguration.Error);
            if (onDevice != null)
            {
                network.Forward(input, n, ours);
                double deviceDiff = MaxAbsDiff(ours, onCpu!);
                parse.InvocationConfiguration.Error.WriteLine($"res2net: {onDevice.Description} vs the compiled CPU forward: max |logit diff| = {deviceDiff:E2}");
                if (!(deviceDiff <= AgreementTolerance))
                {
                    throw new CliException(
                        $"{info.Name}: the logits on {onDevice.Description} and on the CPU disagree (max |diff| = {deviceDiff:E2} > {AgreementTolerance:E0}); not timing a wrong result.");
                }
            }
            string oursName = onDevice == null ? "ours (compiled)" : $"ours ({onDevice.Description})";
            Action oursForward = () => network.Forward(input, n, ours);
            List<Row> rows;
            double? diff = null;
            Pairing? paired = null;
            if (peer == null) rows = [Time(oursName, oursForward, warm, runs)];
            else
            {
                var theirs = new float[n * info.NumClasses];
                using var session = CreateSession(exportOnnx(), t);
                using var run = new OrtRun(session, input, theirs, n, info);
                run.Invoke();
                network.Forward(input, n, ours);
                diff = MaxAbsDiff(ours, theirs);
                if (!(diff <= AgreementTolerance))
                {
                    throw new CliException(
                        $"{info.Name}: our logits and ONNX Runtime's disagree (max |diff| = {diff:E2} > {AgreementTolerance:E0}); not timing a wrong result.");
                }
                (rows, paired) = TimePaired(oursName, oursForward, $"ONNX Runtime {OrtVersion()}", run.Invoke, warm, runs);
            }
            Report(stdout, info, source, n, t, runs, rows, diff, paired);
            if (profiled) ReportProfile(stdout, onDevice!.Profile(input, n));
            return 0;
        });
        return command;
    }

    private sealed record Row(string Engine, double MedianMs, double MinMs)
    {
        public static Row Of(string engine, double[] times) => new(engine, Median(times), times.Min());
    }

    /// <summary>The ratio of two engines timed in pairs: the median of the runs' ratios, and their quartiles.</summary>
    private sealed record Pairing(double Median, double Lower, double Upper, int Pairs);

    private static Row Time(string engine, Action forward, int warmup, int runs)
    {
        for (int i = 0; i < warmup; i++) forward();
        var times = new double[runs];
        for (int i = 0; i < runs; i++) times[i] = Milliseconds(forward);
        return Row.Of(engine, times);
    }

    /// <summary>
    /// Both engines, a forward of each in turn (ours first in even rounds, theirs first in odd ones, so neither always
    /// follows the other), and the ratio taken run by run. A shared or virtual machine's speed drifts by tens of percent
    /// over seconds; timed in two blocks, that drift lands on one engine only, while each pair of neighbouring runs
    /// sees nearly the same machine. Each run starts after <see cref="PairPause"/>: both engines' threads keep polling for
    /// work for a while after a forward, and a forward that starts meanwhile shares a core with them (on 2 cores ours
    /// took 1.5× its time right after ONNX Runtime's, 1.1× after a 100 ms pause; measured 2026-12-01).
    /// </summary>
    private static (List<Row> Rows, Pairing Pairing) TimePaired(string oursName, Action ours, string theirsName, Action theirs, int warmup, int runs)
    {
        for (int i = 0; i < warmup; i++)
        {
            ours();
            theirs();
        }
        var a = new double[runs];
        var b = new double[runs];
        double After(Action forward)
        {
            Thread.Sleep(PairPause);
            return Milliseconds(forward);
        }
        for (int i = 0; i < runs; i++)
        {
            if (i % 2 == 0)
            {
                a[i] = After(ours);
                b[i] = After(theirs);
            }
            else
            {
                b[i] = After(theirs);
                a[i] = After(ours);
            }
        }
        var ratios = a.Zip(b, (x, y) => x / y).ToArray();
        return ([Row.Of(oursName, a), Row.Of(theirsName, b)],
            new Pairing(Median(ratios), Quantile(ratios, 0.25), Quantile(ratios, 0.75), runs));
    }

    /// <summary>The rest before each run of a paired comparison, long enough for the other engine's threads to stop polling.</summary>
    private static readonly TimeSpan PairPause = TimeSpan.FromMilliseconds(100);

    private static double Milliseconds(Action forward)
    {
        long start = Stopwatch.GetTimestamp();
        forward();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(double[] values) => Quantile(values, 0.5);

    /// <summary>The <paramref name="q"/> quantile, interpolated between the two nearest sorted values.</summary>
    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        double at = q * (sorted.Length - 1);
        int low = (int)Math.Floor(at), high = (int)Math.Ceiling(at);
        return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
    }

    private static void Report(TextWriter stdout, NetworkInfo info, string source, int batch, int threads, int runs, List<Row> rows, double? diff,
        Pairing? paired)
    {
        var c = CultureInfo.InvariantCulture;
        long macs = NetworkCost.ConvAndLinearMacs(info);
        var console = Terminal.For(stdout);
        console.WriteLine($"{info.Name}: batch {batch}, {source}, {runs} timed runs (median), " +
                          $"{(2 * macs / 1e9).ToString("0.00", c)} GFLOP per image (conv + fc), {threads} thread{(threads == 1 ? "" : "s")} each, {Environment.ProcessorCount} cores");
        var table = new Table().AddColumn("engine")
            .AddColumn(new TableColumn("ms / batch").RightAligned()).AddColumn(new TableColumn("best").RightAligned())
            .AddColumn(new TableColumn("ms / image").RightAligned()).AddColumn(new TableColumn("images/s").RightAligned())
            .AddColumn(new TableColumn("GFLOP/s").RightAligned());
        foreach (var r in rows)
        {
            double seconds = r.MedianMs / 1000;
            table.AddRow(Markup.Escape(r.Engine), r.MedianMs.ToString("0.0", c), r.MinMs.ToString("0.0", c), (r.MedianMs / batch).ToString("0.00", c),
                ImagesPerSecond(batch / seconds), (2.0 * macs * batch / seconds / 1e9).ToString("0.0", c));
        }
        console.Write(table);
        if (paired is { } p)
        {
            console.WriteLine($"ours / ONNX Runtime: {p.Median.ToString("0.00", c)} (time ratio, below 1 means ours is faster: the median of {p.Pairs} " +
                              $"runs timed in alternating pairs; quartiles {p.Lower.ToString("0.00", c)} to {p.Upper.ToString("0.00", c)})");
            console.WriteLine($"outputs agree: max |ours - ONNX Runtime| = {diff!.Value.ToString("0.0E+0", c)} (limit {AgreementTolerance.ToString("0E+0", c)})");
        }
    }

    /// <summary>The profiled forward, per kernel kind: where a device's time goes.</summary>
    private static void ReportProfile(TextWriter stdout, Res2Net.Gpu.DeviceProfile profile)
    {
        var c = CultureInfo.InvariantCulture;
        var console = Terminal.For(stdout);
        console.WriteLine($"kernel by kernel (each launch waited for): {profile.Launches.Count} launches, {profile.Total.TotalMilliseconds.ToString("0.0", c)} ms");
        var table = new Table().AddColumn("kernel").AddColumn(new TableColumn("launches").RightAligned())
            .AddColumn(new TableColumn("ms").RightAligned()).AddColumn(new TableColumn("%").RightAligned())
            .AddColumn(new TableColumn("groups").RightAligned()).AddColumn(new TableColumn("threads").RightAligned())
            .AddColumn(new TableColumn("barriers").RightAligned()).AddColumn(new TableColumn("GFLOP/s").RightAligned());
        double total = Math.Max(profile.Total.TotalMilliseconds, 1e-9);
        foreach (var k in profile.ByKind())
        {
            double ms = k.Time.TotalMilliseconds;
            bool grouped = k.ThreadsPerGroup > 0; // pools and the head are auto-grouped by ILGPU
            table.AddRow(Markup.Escape(k.Kind), k.Count.ToString(c), ms.ToString("0.0", c), (100 * ms / total).ToString("0.0", c),
                grouped ? k.Groups.ToString("N0", c) : "auto", grouped ? k.ThreadsPerGroup.ToString(c) : "auto",
                grouped ? k.Barriers.ToString("N0", c) : "", k.Macs > 0 && ms > 0 ? (2.0 * k.Macs / (ms / 1000) / 1e9).ToString("0.00", c) : "");
        }
        console.Write(table);
    }

    /// <summary>Images/s to three significant digits below 10 (ILGPU's CPU accelerator runs a full-size model at 0.0375 images/s), one decimal above.</summary>
    private static string ImagesPerSecond(double value) =>
        value.ToString(value < 10 ? "G3" : "0.0", CultureInfo.InvariantCulture);

    private static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (double.IsNaN(d)) return double.NaN;
            max = Math.Max(max, d);
        }
        return max;
    }

    private static byte[] ToBytes(Func<Stream, OnnxExportSummary> export)
    {
        using var stream = new MemoryStream();
        export(stream);
        return stream.ToArray();
    }

    private static InferenceSession CreateSession(byte[] model, int threads)
    {
        try
        {
            using var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            };
            return new InferenceSession(model, options);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new CliException($"ONNX Runtime could not be loaded on this machine ({e.GetBaseException().Message}).");
        }
    }

    private static string OrtVersion() =>
        typeof(InferenceSession).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "";

    /// <summary>One ONNX Runtime forward over fixed input and output buffers, so each run allocates (almost) nothing.</summary>
    private sealed class OrtRun : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly OrtValue _output;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _inputNames = { OnnxExporter.InputName };
        private readonly string[] _outputNames = { OnnxExporter.OutputName };
        private readonly OrtValue[] _inputs;
        private readonly OrtValue[] _outputs;

        public OrtRun(InferenceSession session, float[] input, float[] logits, int batch, NetworkInfo info)
        {
            _session = session;
            _input = OrtValue.CreateTensorValueFromMemory(input, new long[] { batch, 3, info.InputHeight, info.InputWidth });
            _output = OrtValue.CreateTensorValueFromMemory(logits, new long[] { batch, info.NumClasses });
            _inputs = new[] { _input };
            _outputs = new[] { _output };
        }

        public void Invoke() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            _runOptions.Dispose();
        }
    }
}
