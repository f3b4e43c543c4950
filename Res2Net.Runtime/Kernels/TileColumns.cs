namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Whether an AVX-512 micro-tile (4 output channels × 4 vectors of pixels) has a fifth vector column: the last
/// tile of a row of pixels takes it when one vector is left over (14×14 and 28×28 maps), instead of a pass of
/// its own over all the weights. The kernels are generic over it, so the JIT compiles each case apart, without
/// the branch.
/// </summary>
internal interface ITileColumns
{
    static abstract bool Fifth { get; }
}

internal readonly struct FourVectors : ITileColumns
{
    public static bool Fifth => false;
}

/// <summary>4 × 5 vectors: 20 accumulators, 5 pixel vectors and a weight fill 26 of AVX-512's 32 registers.</summary>
internal readonly struct FiveVectors : ITileColumns
{
    public static bool Fifth => true;
}
