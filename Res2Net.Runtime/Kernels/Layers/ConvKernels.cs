namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>
/// The conv entry points that generated networks call: one per algorithm and instruction set, each generic over the
/// layer (<see cref="IConvLayer"/>), whose shape, fusions and schedule the generator fixed. The forward that calls
/// them was chosen once for the machine's vector width; nothing is decided here per call.
/// </summary>
public static unsafe class ConvKernels
{
    /// <summary>AVX-512 direct k×k conv from shifted planes (<see cref="DirectConv"/>).</summary>
    public static void DirectAvx512<T>(in ConvOperands io) where T : struct, IDirectConvLayer =>
        DirectConv.Conv(io.Weights, io.Bias, io.Source, T.Summed ? io.Second : null, io.Destination, T.Relu,
            T.OutChannels, T.InChannels, T.Height, T.Width, T.Kernel, T.Stride, T.OutHeight, T.OutWidth);

    /// <summary>GEMM on 512-bit vectors: 4 channels × 4 vectors of 16 pixels per micro-tile.</summary>
    public static void GemmAvx512<T>(in ConvOperands io) where T : struct, IGemmConvLayer => Gemm<T>(io);

    /// <summary>GEMM on 256-bit vectors: 4 channels × 3 vectors of 8 pixels per micro-tile.</summary>
    public static void GemmAvx2<T>(in ConvOperands io) where T : struct, IGemmConvLayer => Gemm<T>(io);

    private static void Gemm<T>(in ConvOperands io) where T : struct, IGemmConvLayer =>
        Kernels.Gemm.Conv(io.Weights, io.Bias, io.Source, T.Summed ? io.Second : null, T.TailChannel > 0 ? io.Tail : null, T.TailChannel,
            io.Destination, T.Residual ? io.Residual : null, T.Relu, T.OutChannels, T.InChannels, T.Height, T.Width,
            T.Kernel, T.Stride, T.Padding, T.OutHeight, T.OutWidth);
}
