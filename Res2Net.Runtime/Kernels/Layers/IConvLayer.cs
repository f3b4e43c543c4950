namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>
/// One conv layer of a compiled network as compile-time constants: its shape, the steps fused into it and the schedule
/// the generator chose for one instruction set. The generator emits a <c>readonly struct</c> implementing this for each
/// distinct layer signature, and the kernels are generic over it, so the JIT compiles one copy per signature with
/// every shape, branch and loop bound folded (as NN-512 emits one function per distinct layer signature).
/// </summary>
public interface IConvLayer
{
    /// <summary>Output channels (rows of the GEMM).</summary>
    static abstract int OutChannels { get; }

    /// <summary>Input channels, all parts of the input together.</summary>
    static abstract int InChannels { get; }

    /// <summary>Input height.</summary>
    static abstract int Height { get; }

    /// <summary>Input width.</summary>
    static abstract int Width { get; }

    /// <summary>Kernel size (square).</summary>
    static abstract int Kernel { get; }

    static abstract int Stride { get; }

    static abstract int Padding { get; }

    static abstract int OutHeight { get; }

    static abstract int OutWidth { get; }

    /// <summary>Fused prologue: the input is <c>Source + Second</c> element-wise (Res2Net's hierarchical <c>sp + spx[i]</c>).</summary>
    static abstract bool Summed { get; }

    /// <summary>
    /// Fused concat: input channels from this one on are read from <see cref="ConvOperands.Tail"/> (a normal block's
    /// untouched last split, read in place, or a stage block's shortcut input with the shortcut conv folded in);
    /// 0 when the whole input is <see cref="ConvOperands.Source"/>.
    /// </summary>
    static abstract int TailChannel { get; }

    /// <summary>
    /// The tail is read every this-many pixels along both axes: a stage block's shortcut conv folded into conv3 reads
    /// the block's input at its own stride (2 in stages 2–4). The default 1 is a last split read in place.
    /// </summary>
    static virtual int TailStride => 1;

    /// <summary>The tail buffer's height; the default 0 means the conv's own <see cref="Height"/> (a tail at stride 1).</summary>
    static virtual int TailHeight => 0;

    /// <summary>The tail buffer's width; the default 0 means the conv's own <see cref="Width"/> (a tail at stride 1).</summary>
    static virtual int TailWidth => 0;

    /// <summary>Fused epilogue: <see cref="ConvOperands.Residual"/> is added after the bias (the Bottle2neck's identity).</summary>
    static abstract bool Residual { get; }

    /// <summary>Fused epilogue: ReLU last.</summary>
    static abstract bool Relu { get; }

    /// <summary>How the layer's work is shared between threads (the number of threads is the machine's).</summary>
    static abstract ThreadSplit Split { get; }
}

/// <summary>
/// A conv the generator scheduled on <see cref="DirectConv"/> (k×k "same" convs read from shifted planes), for one vector width:
/// a 3×3 or 7×7 kernel with padding kernel / 2, at stride 1 (output the input's size) or 2 (output (size − 1) / 2 + 1,
/// input not summed), without tail or residual.
/// </summary>
public interface IDirectConvLayer : IConvLayer
{
    /// <summary>
    /// Pixel tiles along the planes' rows. They must cover the n plane-row pixels, <c>n = OutHeight·w − (w − OutWidth)</c>
    /// with row width <c>w = Width + 2·Padding</c> at stride 1 and <c>OutWidth + Padding</c> at stride 2, and the last
    /// must start below n. Tiles are 4 channels × <c>TileVectors</c> vectors: tile t starts at
    /// <c>64·t + 16·min(t, FiveVectorTiles)</c> on AVX-512 (4 vectors of 16), at <c>24·t</c> on AVX2 (3 vectors of 8).
    /// </summary>
    static abstract int Tiles { get; }

    /// <summary>
    /// AVX-512: the first this many tiles are 5 vectors wide, the others 4 (14×14: 5 + 5 + 4, no vector computed in vain);
    /// at most <see cref="Tiles"/>. AVX2: 0 (no register is left for a fourth vector, let alone a fifth).
    /// </summary>
    static abstract int FiveVectorTiles { get; }
}

/// <summary>A conv the generator scheduled on the GEMM micro-kernel (<see cref="Kernels.Gemm"/>), for one vector width.</summary>
public interface IGemmConvLayer : IConvLayer
{
    /// <summary>How B (input channels × kernel taps by output pixels) is made.</summary>
    static abstract GemmInput Input { get; }

    /// <summary>
    /// Whether each depth slice × pixel tile of B is copied into a per-thread buffer before the weight panels pass over
    /// it; required with a <see cref="IConvLayer.TailChannel"/> (the concat is joined in that copy).
    /// </summary>
    static abstract bool PackB { get; }

    /// <summary>
    /// Whole tiles of <c>TileVectors</c> vectors over a thread's pixels, and what is done with the pixels they leave:
    /// <see cref="GemmRemainder.None"/> exactly when the tiles (64 pixels on AVX-512, 24 on AVX2) cover the output.
    /// </summary>
    static abstract GemmRemainder Remainder { get; }
}
