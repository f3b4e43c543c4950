using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>
/// The conv entry points that generated networks call: one per algorithm and instruction set, each generic over the
/// layer (<see cref="IConvLayer"/>), whose shape, fusions and schedule the generator fixed. The JIT compiles one copy
/// of the kernel per layer type with all of them folded in; only the thread count (<see cref="Workers.MaxThreads"/>)
/// is read at run time. The forward that calls them was chosen once for the machine's vector width.
/// <para>
/// A layer type is checked once, on its first call: a schedule the kernel cannot run exactly (direct conv on a layer
/// without "same" padding, a remainder that leaves pixels out, …) throws <see cref="InvalidOperationException"/>
/// naming the type and the rule, and so does a call without an operand the layer reads
/// (<see cref="ArgumentException"/>); an AVX-512 entry point on a machine without AVX-512 throws
/// <see cref="PlatformNotSupportedException"/>. Results are the same to the bit as <see cref="Gemm.Conv"/>'s, the
/// general fallback, on the same operands.
/// </para>
/// </summary>
public static unsafe class ConvKernels
{
    /// <summary>AVX-512 direct k×k conv from shifted planes (<see cref="DirectConv"/>): 4 channels × 4 (or 5) vectors of 16 pixels per tile.</summary>
    public static void DirectAvx512<T>(in ConvOperands io) where T : struct, IDirectConvLayer
    {
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated) throw NoAvx512<T>(nameof(DirectAvx512));
        Require<T>(io, nameof(DirectAvx512));
        DirectConv.Conv<T, Simd512, Vector512<float>>(io);
        LayerClock.Mark();
    }

    /// <summary>
    /// Direct k×k conv from shifted planes on 256-bit vectors: 4 channels × 3 vectors of 8 pixels per tile, AVX's masked
    /// stores for the border columns. Runs on any machine; the same bits as the AVX-512 kernels where it has FMA3.
    /// </summary>
    public static void DirectAvx2<T>(in ConvOperands io) where T : struct, IDirectConvLayer
    {
        Require<T>(io, nameof(DirectAvx2));
        DirectConv.Conv<T, Simd256, Vector256<float>>(io);
        LayerClock.Mark();
    }

    /// <summary>GEMM on 512-bit vectors: 4 channels × 4 vectors of 16 pixels per micro-tile.</summary>
    public static void GemmAvx512<T>(in ConvOperands io) where T : struct, IGemmConvLayer
    {
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated) throw NoAvx512<T>(nameof(GemmAvx512));
        Require<T>(io, nameof(GemmAvx512));
        Gemm.Conv<T, Simd512, Vector512<float>>(io);
        LayerClock.Mark();
    }

    /// <summary>
    /// GEMM on 256-bit vectors: 4 channels × 3 vectors of 8 pixels per micro-tile. Runs on any machine; the same bits as
    /// the AVX-512 kernels where it has FMA3 (AVX2 machines do).
    /// </summary>
    public static void GemmAvx2<T>(in ConvOperands io) where T : struct, IGemmConvLayer
    {
        Require<T>(io, nameof(GemmAvx2));
        Gemm.Conv<T, Simd256, Vector256<float>>(io);
        LayerClock.Mark();
    }

    /// <summary>Throws unless every operand <typeparamref name="T"/> reads is there (one test per operand, most folded away).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Require<T>(in ConvOperands io, string kernel) where T : struct, IConvLayer
    {
        if (io.Weights == null || io.Bias == null || io.Source == null || io.Destination == null ||
            (T.Summed && io.Second == null) || (T.TailChannel > 0 && io.Tail == null) || (T.Residual && io.Residual == null))
        {
            throw Missing<T>(io, kernel);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException Missing<T>(in ConvOperands io, string kernel) where T : struct, IConvLayer
    {
        var missing = new List<string>();
        if (io.Weights == null) missing.Add(nameof(ConvOperands.Weights));
        if (io.Bias == null) missing.Add(nameof(ConvOperands.Bias));
        if (io.Source == null) missing.Add(nameof(ConvOperands.Source));
        if (io.Destination == null) missing.Add(nameof(ConvOperands.Destination));
        if (T.Summed && io.Second == null) missing.Add($"{nameof(ConvOperands.Second)} (the layer is Summed)");
        if (T.TailChannel > 0 && io.Tail == null) missing.Add($"{nameof(ConvOperands.Tail)} (TailChannel is {T.TailChannel})");
        if (T.Residual && io.Residual == null) missing.Add($"{nameof(ConvOperands.Residual)} (the layer has a Residual)");
        return new ArgumentException($"ConvKernels.{kernel}<{typeof(T).Name}>: no {string.Join(", ", missing)} in the operands", nameof(io));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PlatformNotSupportedException NoAvx512<T>(string kernel) => new(
        $"ConvKernels.{kernel}<{typeof(T).Name}> needs AVX-512, which this machine lacks (or the process disabled: " +
        "DOTNET_EnableAVX512F=0); run the network's AVX2 forward, whose layers call ConvKernels.DirectAvx2 and GemmAvx2");
}
