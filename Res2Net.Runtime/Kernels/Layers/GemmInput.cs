namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>Where the GEMM's B matrix comes from.</summary>
public enum GemmInput
{
    /// <summary>A 1×1 stride-1 conv without padding or summed input: B is the activations as they lie (two buffers when the layer has a tail).</summary>
    InPlace,

    /// <summary>Gathered (im2col, with the hierarchical add) by the calling thread before the threads multiply (split by weight panels).</summary>
    Gathered,

    /// <summary>Gathered by each thread for its own pixels just before it multiplies them (split by pixel tiles, or a single thread).</summary>
    GatheredPerThread,
}

/// <summary>What follows a thread's whole pixel tiles (decided from the pixel count, which is a constant).</summary>
public enum GemmRemainder
{
    /// <summary>Nothing is left: the tiles cover the pixels exactly.</summary>
    None,

    /// <summary>At most one vector is left after at least one whole tile: the last takes it as a fifth vector column (14×14, 28×28 on AVX-512 only).</summary>
    FifthVector,

    /// <summary>49 pixels left (a 7×7 map, on AVX-512 only): three vectors and the 49th pixel as a 4-lane FMA.</summary>
    ThreeVectorsAndAPixel,

    /// <summary>One narrower tile: the fallback's choice for more than <c>TileVectors − 1</c> vectors' worth (exact for any pixels left).</summary>
    NarrowTile,

    /// <summary>Single vectors: the fallback's choice for fewer (exact for any pixels left).</summary>
    Vectors,

    /// <summary>
    /// 1 to 4 pixels left on AVX2 (7×7 leaves 1, 14×14 leaves 4): each pixel's 4 channels as one 128-bit FMA per
    /// input (the panel's weights for it are adjacent) times the pixel broadcast, for several weight panels at once,
    /// each group right after its pass over the last whole tile (its weights then come from cache).
    /// </summary>
    PixelsAcrossPanels,
}
