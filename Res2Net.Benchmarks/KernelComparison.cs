using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Res2Net.Models;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Kernels.Layers;

namespace Res2Net.Benchmarks;

/// <summary>
/// The specialized conv kernels (<see cref="ConvKernels"/>, one copy per layer type with shape and schedule folded)
/// against the fallback <see cref="Gemm.Conv"/> (the same code, everything read at run time), on five layers of
/// res2net50-w14-s8 at batch 1: the stem, a hierarchical 3×3 of layer1, layer2's first conv3 (the stride-2 shortcut
/// conv folded in) and the conv3s of layer3 (14×14, concat tail, residual) and layer4 (7×7). The layer types below are what the generator emits for
/// them, with the schedule the fallback would pick on 2 threads; each is checked against the network's layer table.
/// Both kernels run alternately on the same operands, medians of <see cref="Rounds"/> rounds, outputs compared to the
/// bit; the first call of each specialized layer is timed too, less a warm call: its JIT (everything else it needs
/// the fallback has already compiled and warmed). On one thread the times are the thread's CPU time, so that a busy
/// shared machine does not drown the ratio. Not a BenchmarkDotNet run: the question is a ratio of two kernels in one
/// process.
/// </summary>
internal static unsafe class KernelComparison
{
    private const int Rounds = 15;

    private const string Model = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    public static int Run(int threads, TextWriter output)
    {
        Workers.MaxThreads = threads;
        var layers = Res2NetModels.All.Single(m => m.Name == Model).Layers;
        bool avx512 = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"{Model}, batch 1, {threads} thread(s), {(avx512 ? "AVX-512" : "AVX2 (no AVX-512 here: the AVX-512 kernels are not timed)")}; " +
            $"{Environment.ProcessorCount} cores; medians of {Rounds} alternating rounds, " +
            (threads == 1 ? "the thread's CPU time" : "wall time"));
        output.WriteLine();
        output.WriteLine("| layer | kernel, schedule | fallback ms | specialized ms | specialized / fallback | JIT ms (first call − warm) |");
        output.WriteLine("|---|---|--:|--:|--:|--:|");
        Compare<Stem>(layers, avx512, output, c);
        Compare<Layer1Convs1>(layers, avx512, output, c);
        Compare<Layer2Conv3>(layers, avx512, output, c);
        Compare<Layer3Conv3>(layers, avx512, output, c);
        Compare<Layer4Conv3>(layers, avx512, output, c);
        return 0;
    }

    private delegate void Entry(in ConvOperands io);

    private static string Describe<T>(string kernel) where T : struct, IGemmConvLayer =>
        $"{kernel}, {T.Split}, {T.Input}{(T.PackB ? ", packed" : "")}, {T.Remainder}";

    /// <summary>
    /// One layer, <typeparamref name="T"/> checked against the layer table: on GemmAvx2, or where the machine has AVX-512
    /// on DirectAvx512 or GemmAvx512 as the layer says.
    /// </summary>
    private static void Compare<T>(IReadOnlyList<Res2Net.Runtime.Networks.LayerInfo> layers, bool avx512, TextWriter output, CultureInfo c)
        where T : struct, IGemmConvLayer, IDirectConvLayer, INamedLayer
    {
        var info = layers.Single(l => l.Module == T.Module);
        int[] input = [T.InChannels, T.Height, T.Width], result = [T.OutChannels, T.OutHeight, T.OutWidth];
        if (!info.InputShape.SequenceEqual(input) || !info.OutputShape.SequenceEqual(result) || info.Kernel != T.Kernel ||
            info.Stride != T.Stride || info.Padding != T.Padding || info.Fusions.HasFlag(Res2Net.Runtime.Networks.LayerFusions.InputSum) != T.Summed || info.TailChannel != T.TailChannel ||
            info.TailStride != T.TailStride)
        {
            throw new InvalidOperationException($"{T.Module}: the benchmark's layer type does not match {Model}'s layer table");
        }
        var operands = new Operands<T>();
        var (kernel, schedule) = !avx512 ? (ConvKernels.GemmAvx2<T>, Describe<T>("GemmAvx2"))
            : T.Direct ? ((Entry)ConvKernels.DirectAvx512<T>, $"DirectAvx512, {T.Split}, tiles {T.Tiles} ({T.FiveVectorTiles} of 5 vectors)")
            : (ConvKernels.GemmAvx512<T>, Describe<T>("GemmAvx512"));
        Action specialized = () => kernel(operands.Io);
        Action fallback = operands.Fallback;

        fallback(); // the fallback's code compiled, scratch grown, operands in cache
        fallback();
        double first = Time(specialized, 1);
        var bits = operands.Output();
        fallback();
        if (!bits.AsSpan().SequenceEqual(operands.Output())) throw new InvalidOperationException($"{T.Module}: the specialized kernel's output differs from the fallback's");

        int calls = Math.Max(1, (int)(20 / Math.Max(0.01, Time(fallback, 1)))); // about 20 ms a round
        var fallbackTimes = new double[Rounds];
        var specializedTimes = new double[Rounds];
        for (int round = 0; round < Rounds; round++)
        {
            // Alternate which runs first, so that drift in the machine's speed falls on both alike.
            if (round % 2 == 0)
            {
                fallbackTimes[round] = Time(fallback, calls);
                specializedTimes[round] = Time(specialized, calls);
            }
            else
            {
                specializedTimes[round] = Time(specialized, calls);
                fallbackTimes[round] = Time(fallback, calls);
            }
        }
        double f = Median(fallbackTimes), s = Median(specializedTimes);
        output.WriteLine($"| {T.Module} | {schedule} | {f.ToString("F3", c)} | {s.ToString("F3", c)} | {(s / f).ToString("F3", c)} | {(first - s).ToString("F1", c)} |");
    }

    /// <summary>
    /// Milliseconds per call, over <paramref name="calls"/> calls: on one thread the calling thread's CPU time, which
    /// leaves out the time it waited for a core (a shared machine's other work); on several, wall time.
    /// </summary>
    private static double Time(Action step, int calls)
    {
        bool cpu = Workers.MaxThreads == 1 && OperatingSystem.IsLinux();
        long start = Stopwatch.GetTimestamp();
        double cpuStart = cpu ? ThreadCpuMilliseconds() : 0;
        for (int i = 0; i < calls; i++) step();
        return (cpu ? ThreadCpuMilliseconds() - cpuStart : Stopwatch.GetElapsedTime(start).TotalMilliseconds) / calls;
    }

    private struct TimeSpec
    {
        public long Seconds, Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuMilliseconds()
    {
        const int ThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
        if (ClockGetTime(ThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>Seeded operands of a layer in pinned buffers with the kernels' read slack, and the fallback's call on them.</summary>
    private sealed class Operands<T> where T : struct, IConvLayer
    {
        private readonly float[][] _buffers;
        private readonly int _outputs = T.OutChannels * T.OutHeight * T.OutWidth;

        public Operands()
        {
            var random = new Random(14);
            int plane = T.Height * T.Width, depth = T.InChannels * T.Kernel * T.Kernel;
            int rows = (T.OutChannels + Gemm.RowBlock - 1) / Gemm.RowBlock * Gemm.RowBlock;
            int sourceChannels = T.TailChannel > 0 ? T.TailChannel : T.InChannels;
            float[] Buffer(int count, double scale)
            {
                var b = GC.AllocateArray<float>(count + Gemm.ReadSlack, pinned: true);
                for (int i = 0; i < count; i++) b[i] = (float)((random.NextDouble() * 2 - 1) * scale);
                return b;
            }
            _buffers =
            [
                Buffer(rows * depth, 1 / Math.Sqrt(depth)), Buffer(rows, 0.1), Buffer(sourceChannels * plane, 1),
                Buffer(T.Summed ? T.InChannels * plane : 0, 1),
                Buffer((T.InChannels - sourceChannels) * (T.TailHeight == 0 ? plane : T.TailHeight * T.TailWidth), 1),
                Buffer(_outputs, 0), Buffer(T.Residual ? _outputs : 0, 1),
            ];
        }

        private float* At(int i) => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _buffers[i][0]); // pinned

        public ConvOperands Io => new()
        {
            Weights = At(0), Bias = At(1), Source = At(2), Second = T.Summed ? At(3) : null,
            Tail = T.TailChannel > 0 ? At(4) : null, Destination = At(5), Residual = T.Residual ? At(6) : null,
        };

        public void Fallback()
        {
            var io = Io;
            Gemm.Conv(io.Weights, io.Bias, io.Source, io.Second, io.Tail, T.TailChannel, io.Destination, io.Residual, T.Relu,
                T.OutChannels, T.InChannels, T.Height, T.Width, T.Kernel, T.Stride, T.Padding, T.OutHeight, T.OutWidth,
                T.TailStride, T.TailHeight, T.TailWidth);
        }

        public float[] Output() => _buffers[5].AsSpan(0, _outputs).ToArray();
    }
}

/// <summary>A benchmark layer's module in the network's layer table, and whether AVX-512 runs it on DirectConv.</summary>
internal interface INamedLayer
{
    static abstract string Module { get; }

    static abstract bool Direct { get; }
}

// The layer types, as the generator emits them: literals, with the schedule the fallback picks on 2 threads for the
// machine's vector width (Vector512.IsHardwareAccelerated is a constant to the JIT, so each copy has one schedule).
// Each implements both kernels' interfaces; Direct says which AVX-512 kernel runs it.

internal readonly struct Stem : IGemmConvLayer, IDirectConvLayer, INamedLayer
{
    public static string Module => "conv1";
    public static bool Direct => true;
    public static int OutChannels => 64;
    public static int InChannels => 3;
    public static int Height => 224;
    public static int Width => 224;
    public static int Kernel => 7;
    public static int Stride => 2;
    public static int Padding => 3;
    public static int OutHeight => 112;
    public static int OutWidth => 112;
    public static bool Summed => false;
    public static int TailChannel => 0;
    public static bool Residual => false;
    public static bool Relu => true;
    public static ThreadSplit Split => ThreadSplit.PixelTiles;
    public static GemmInput Input => GemmInput.GatheredPerThread;
    public static bool PackB => true;
    public static GemmRemainder Remainder => GemmRemainder.Vectors; // 12544 = 522 × 24 + 16
    public static int Tiles => 201; // 112 rows × 115 − 3 = 12877 plane-row pixels, 805 vectors
    public static int FiveVectorTiles => 1;
}

internal readonly struct Layer1Convs1 : IGemmConvLayer, IDirectConvLayer, INamedLayer
{
    public static string Module => "layer1.1.convs.1";
    public static bool Direct => true;
    public static int OutChannels => 14;
    public static int InChannels => 14;
    public static int Height => 56;
    public static int Width => 56;
    public static int Kernel => 3;
    public static int Stride => 1;
    public static int Padding => 1;
    public static int OutHeight => 56;
    public static int OutWidth => 56;
    public static bool Summed => true;
    public static int TailChannel => 0;
    public static bool Residual => false;
    public static bool Relu => true;
    public static ThreadSplit Split => ThreadSplit.PixelTiles;
    public static GemmInput Input => GemmInput.GatheredPerThread;
    public static bool PackB => false; // 4 panels
    public static GemmRemainder Remainder => GemmRemainder.Vectors; // 3136 = 130 × 24 + 16
    public static int Tiles => 50; // 56 × 58 − 2 = 3246 plane-row pixels, 203 vectors
    public static int FiveVectorTiles => 3;
}

internal readonly struct Layer2Conv3 : IGemmConvLayer, IDirectConvLayer, INamedLayer
{
    public static string Module => "layer2.0.conv3";
    public static bool Direct => false;
    public static int OutChannels => 512;
    public static int InChannels => 480;
    public static int Height => 28;
    public static int Width => 28;
    public static int Kernel => 1;
    public static int Stride => 1;
    public static int Padding => 0;
    public static int OutHeight => 28;
    public static int OutWidth => 28;
    public static bool Summed => false;
    public static int TailChannel => 224; // the shortcut conv's input, layer1's output, read at stride 2
    public static int TailStride => 2;
    public static int TailHeight => 56;
    public static int TailWidth => 56;
    public static bool Residual => false;
    public static bool Relu => true;
    public static ThreadSplit Split => ThreadSplit.PixelTiles;
    public static GemmInput Input => GemmInput.InPlace;
    public static bool PackB => true;
    // 784 = 12 × 64 + 16, = 32 × 24 + 16
    public static GemmRemainder Remainder => Vector512.IsHardwareAccelerated ? GemmRemainder.FifthVector : GemmRemainder.Vectors;
    public static int Tiles => 0;
    public static int FiveVectorTiles => 0;
}

internal readonly struct Layer3Conv3 : IGemmConvLayer, IDirectConvLayer, INamedLayer
{
    public static string Module => "layer3.1.conv3";
    public static bool Direct => false;
    public static int OutChannels => 1024;
    public static int InChannels => 448;
    public static int Height => 14;
    public static int Width => 14;
    public static int Kernel => 1;
    public static int Stride => 1;
    public static int Padding => 0;
    public static int OutHeight => 14;
    public static int OutWidth => 14;
    public static bool Summed => false;
    public static int TailChannel => 392;
    public static bool Residual => true;
    public static bool Relu => true;
    // 3 tiles of 64 (too few for 2 threads), 8 of 24
    public static ThreadSplit Split => Vector512.IsHardwareAccelerated ? ThreadSplit.WeightPanels : ThreadSplit.PixelTiles;
    public static GemmInput Input => GemmInput.InPlace;
    public static bool PackB => true;
    // 196 = 3 × 64 + 4, = 8 × 24 + 4
    public static GemmRemainder Remainder => Vector512.IsHardwareAccelerated ? GemmRemainder.FifthVector : GemmRemainder.Vectors;
    public static int Tiles => 0;
    public static int FiveVectorTiles => 0;
}

internal readonly struct Layer4Conv3 : IGemmConvLayer, IDirectConvLayer, INamedLayer
{
    public static string Module => "layer4.1.conv3";
    public static bool Direct => false;
    public static int OutChannels => 2048;
    public static int InChannels => 896;
    public static int Height => 7;
    public static int Width => 7;
    public static int Kernel => 1;
    public static int Stride => 1;
    public static int Padding => 0;
    public static int OutHeight => 7;
    public static int OutWidth => 7;
    public static bool Summed => false;
    public static int TailChannel => 784;
    public static bool Residual => true;
    public static bool Relu => true;
    public static ThreadSplit Split => ThreadSplit.WeightPanels;
    public static GemmInput Input => GemmInput.InPlace;
    public static bool PackB => true;
    // 49 = 3 vectors of 16 and a pixel, = 2 × 24 + 1
    public static GemmRemainder Remainder => Vector512.IsHardwareAccelerated ? GemmRemainder.ThreeVectorsAndAPixel : GemmRemainder.Vectors;
    public static int Tiles => 0;
    public static int FiveVectorTiles => 0;
}
