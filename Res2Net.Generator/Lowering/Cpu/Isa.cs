namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// A vector width the CPU forward is scheduled for. Both are scheduled at generation time; which one runs is the one
    /// thing left to the machine, chosen once per network (<c>Res2Net.Runtime.Kernels.VectorWidth.Avx512</c>).
    /// </summary>
    internal sealed record Isa(string Name, int Lanes, int TileVectors, bool HasDirectConv)
    {
        /// <summary>AVX-512: 16 lanes, 4 × 4 vector micro-tiles (32 registers), masked stores for the direct conv.</summary>
        public static Isa Avx512 { get; } = new("Avx512", 16, 4, HasDirectConv: true);

        /// <summary>AVX2: 8 lanes, 4 × 3 vector micro-tiles (16 registers), AVX's masked stores for the direct conv.</summary>
        public static Isa Avx2 { get; } = new("Avx2", 8, 3, HasDirectConv: true);

        /// <summary>Pixels of one GEMM micro-tile.</summary>
        public int Tile => TileVectors * Lanes;
    }
}
