using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// The one run-time fact the generated code asks of the machine besides its thread count: whether the forward scheduled
/// for AVX-512 runs here, or the one for AVX2. Read once; every generated network, the layer table's
/// <see cref="Networks.LayerInfo.ScheduleHere"/> and the memory figures use this, so they agree.
/// </summary>
public static class VectorWidth
{
    /// <summary>AVX-512 is there and the runtime uses it (false under <c>DOTNET_EnableAVX512F=0</c>).</summary>
    public static bool Avx512 { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
}
