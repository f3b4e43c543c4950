namespace Res2Net.Gpu.Kernels;

/// <summary>
/// Where one conv reads and writes, in floats; the run-time half of a launch (the shape is the compile-time half).
/// Offsets are within one image's slice of a buffer; image <c>n</c>'s slice starts at <c>n · ImageFloats</c> of the arena
/// (or <c>n · SourceImage</c> of the source, which is the arena or the caller's images).
/// </summary>
public struct ConvOperands
{
    public int Batch;
    public int ImageFloats;
    public int Source;
    public int SourceImage;
    public int Second;
    public int Tail;
    public int Destination;
    public int Residual;
    public int Weights;
    public int Bias;
}
