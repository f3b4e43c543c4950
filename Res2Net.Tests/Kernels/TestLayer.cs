using Res2Net.Runtime.Kernels.Layers;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// A non-negative int as a type: <see cref="Zero"/>, <see cref="Twice{A}"/> and <see cref="TwicePlusOne{A}"/> spell it
/// in binary. A layer's constants are static members of its type (<see cref="IConvLayer"/>), so the tests, whose cases
/// are numbers chosen at run time (some at random), make their layer types from these (<see cref="TestLayers.TypeOf"/>);
/// the JIT still sees constants.
/// </summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

internal readonly struct Zero : IConstant
{
    public static int Value => 0;
}

internal readonly struct Twice<A> : IConstant where A : struct, IConstant
{
    public static int Value => 2 * A.Value;
}

internal readonly struct TwicePlusOne<A> : IConstant where A : struct, IConstant
{
    public static int Value => 2 * A.Value + 1;
}

/// <summary>
/// A conv layer whose every constant is a type argument: what the generator emits as a struct of literals, for any
/// case a test describes. It implements both kernels' interfaces, so one type runs on each entry point (and the
/// schedule members a kernel does not read are ignored).
/// </summary>
/// <typeparam name="TFlags">
/// Bit 0 Summed, 1 Residual, 2 Relu, 3 PackB; bits 4–5 <see cref="ThreadSplit"/>, 6–7 <see cref="GemmInput"/>,
/// 8–10 <see cref="GemmRemainder"/> (<see cref="TestLayers.Flags"/>).
/// </typeparam>
internal readonly struct TestLayer<TIn, THeight, TWidth, TOut, TKernel, TStride, TPadding, TOutHeight, TOutWidth, TTail, TFlags, TTiles, TFive,
    TTailStride, TTailHeight, TTailWidth>
    : IGemmConvLayer, IDirectConvLayer
    where TIn : struct, IConstant where THeight : struct, IConstant where TWidth : struct, IConstant
    where TOut : struct, IConstant where TKernel : struct, IConstant where TStride : struct, IConstant
    where TPadding : struct, IConstant where TOutHeight : struct, IConstant where TOutWidth : struct, IConstant
    where TTail : struct, IConstant where TFlags : struct, IConstant where TTiles : struct, IConstant where TFive : struct, IConstant
    where TTailStride : struct, IConstant where TTailHeight : struct, IConstant where TTailWidth : struct, IConstant
{
    public static int OutChannels => TOut.Value;
    public static int InChannels => TIn.Value;
    public static int Height => THeight.Value;
    public static int Width => TWidth.Value;
    public static int Kernel => TKernel.Value;
    public static int Stride => TStride.Value;
    public static int Padding => TPadding.Value;
    public static int OutHeight => TOutHeight.Value;
    public static int OutWidth => TOutWidth.Value;
    public static int TailChannel => TTail.Value;
    public static int TailStride => TTailStride.Value;
    public static int TailHeight => TTailHeight.Value;
    public static int TailWidth => TTailWidth.Value;
    public static bool Summed => (TFlags.Value & 1) != 0;
    public static bool Residual => (TFlags.Value & 2) != 0;
    public static bool Relu => (TFlags.Value & 4) != 0;
    public static bool PackB => (TFlags.Value & 8) != 0;
    public static ThreadSplit Split => (ThreadSplit)((TFlags.Value >> 4) & 3);
    public static GemmInput Input => (GemmInput)((TFlags.Value >> 6) & 3);
    public static GemmRemainder Remainder => (GemmRemainder)((TFlags.Value >> 8) & 7);
    public static int Tiles => TTiles.Value;
    public static int FiveVectorTiles => TFive.Value;
}

/// <summary>A kernel schedule as a test writes it: the members of the schedule interfaces (those a kernel does not read are ignored).</summary>
internal sealed record Schedule(ThreadSplit Split, GemmInput Input = GemmInput.InPlace, bool PackB = false,
    GemmRemainder Remainder = GemmRemainder.None, int Tiles = 0, int FiveVectorTiles = 0)
{
    public override string ToString() => $"{Split}, {Input}, {(PackB ? "packed" : "unpacked")}, {Remainder}, tiles {Tiles} ({FiveVectorTiles} of 5)";
}

internal static class TestLayers
{
    /// <summary>
    /// The <see cref="TestLayer{TIn, THeight, TWidth, TOut, TKernel, TStride, TPadding, TOutHeight, TOutWidth, TTail, TFlags, TTiles, TFive, TTailStride, TTailHeight, TTailWidth}"/>
    /// of a shape and schedule; <paramref name="outHeight"/> and <paramref name="outWidth"/> override the shape's
    /// (to make a layer that lies about its output).
    /// </summary>
    public static Type TypeOf(ConvShape shape, Schedule schedule, int? outHeight = null, int? outWidth = null) =>
        typeof(TestLayer<,,,,,,,,,,,,,,,>).MakeGenericType(
            [.. new[]
            {
                shape.In, shape.Height, shape.Width, shape.Out, shape.Kernel, shape.Stride, shape.Padding,
                outHeight ?? shape.OutHeight, outWidth ?? shape.OutWidth, shape.TailChannel, Flags(shape, schedule),
                schedule.Tiles, schedule.FiveVectorTiles, shape.TailStride, shape.TailHeight, shape.TailWidth,
            }.Select(Constant)]);

    public static int Flags(ConvShape shape, Schedule schedule) =>
        (shape.Summed ? 1 : 0) | (shape.Residual ? 2 : 0) | (shape.Relu ? 4 : 0) | (schedule.PackB ? 8 : 0) |
        ((int)schedule.Split << 4) | ((int)schedule.Input << 6) | ((int)schedule.Remainder << 8);

    private static Type Constant(int value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "type-level constants are not negative");
        if (value == 0) return typeof(Zero);
        return (value % 2 == 0 ? typeof(Twice<>) : typeof(TwicePlusOne<>)).MakeGenericType(Constant(value / 2));
    }
}
