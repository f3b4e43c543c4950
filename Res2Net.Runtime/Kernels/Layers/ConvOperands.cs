namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>
/// Where one conv layer reads and writes. The generated code names only the operands its layer uses; the others stay
/// null, and the layer's constants (<see cref="IConvLayer.Summed"/>, <see cref="IConvLayer.TailChannel"/>,
/// <see cref="IConvLayer.Residual"/>) say which are read.
/// </summary>
public unsafe struct ConvOperands
{
    /// <summary>Packed weights: panels of <see cref="Gemm.RowBlock"/> output channels, BatchNorm folded in.</summary>
    public float* Weights;

    /// <summary>One bias per output channel (the folded BatchNorm's shift).</summary>
    public float* Bias;

    public float* Source;

    /// <summary>Added to <see cref="Source"/> when the layer is <see cref="IConvLayer.Summed"/>.</summary>
    public float* Second;

    /// <summary>Input channels from <see cref="IConvLayer.TailChannel"/> on.</summary>
    public float* Tail;

    public float* Destination;

    /// <summary>Added in the epilogue when the layer has a <see cref="IConvLayer.Residual"/>.</summary>
    public float* Residual;
}
