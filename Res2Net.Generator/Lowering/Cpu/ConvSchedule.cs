namespace Res2Net.Generator.Lowering.Cpu
{
    internal enum ConvAlgorithm
    {
        /// <summary>k×k "same" conv read from zero-bordered (stride 2: phase) planes, no receptive-field matrix (AVX-512).</summary>
        Direct,

        /// <summary>The GEMM micro-kernel over B: the activations in place (1×1) or their receptive fields gathered.</summary>
        Gemm,
    }

    // The next three mirror Res2Net.Runtime.Kernels.Layers by name (a test checks it): the generator cannot reference the runtime.

    internal enum ThreadSplit { Single, PixelTiles, WeightPanels }

    internal enum GemmInput { InPlace, Gathered, GatheredPerThread }

    internal enum GemmRemainder { None, FifthVector, ThreeVectorsAndAPixel, NarrowTile, Vectors, PixelsAcrossPanels }

    /// <summary>
    /// How one conv runs on one vector width, decided here and obeyed by the kernel. The scratch is exact: the floats the
    /// kernel asks for, on the calling thread (<see cref="SharedScratchFloats"/>: a gathered B) and on each thread that
    /// takes part (<see cref="ThreadScratchFloats"/>: the direct conv's planes, or packed B tiles).
    /// </summary>
    internal sealed record ConvSchedule(
        Isa Isa,
        ConvAlgorithm Algorithm,
        ThreadSplit Split,
        int Tiles,
        int FiveVectorTiles,
        GemmInput Input,
        bool PackB,
        GemmRemainder Remainder,
        long SharedScratchFloats,
        long ThreadScratchFloats,
        string Description);
}
