using System;
using System.Collections.Generic;

namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// Chooses, for one conv signature and one vector width, the algorithm, the tiles, B's making and packing and the axis
    /// the threads split, from the shape alone: everything the kernels used to decide per call. The rules and their
    /// constants are the ones measured in docs/performance.md; the kernel obeys the schedule, checking only that it is
    /// possible. Thread counts are the machine's: a split names the axis, and is chosen for two or more threads (with one,
    /// any axis is the whole layer).
    /// </summary>
    internal static class ConvScheduler
    {
        /// <summary>Output channels per micro-tile and weight panel (<c>Res2Net.Runtime.Kernels.Gemm.RowBlock</c>; a test checks it).</summary>
        public const int RowBlock = 4;

        /// <summary>Below this many multiply-adds a layer runs on one thread: waking a worker would cost more.</summary>
        public const long ParallelThreshold = 1 << 18;

        /// <summary>Weight panels that must pass over a B tile for packing it to pay (layer1's 3×3s, 4 panels, read B in place).</summary>
        public const int PackPanels = 8;

        /// <summary>The threads a split is chosen for: a pixel split needs two tiles per thread to balance.</summary>
        public const int SplitThreads = 2;

        /// <summary>Inputs per depth slice of the GEMM and the widest tile (5 vectors of 16): the per-thread packed-B buffer.</summary>
        public const int PackedBFloats = 128 * 80;

        /// <summary>
        /// The most pixels left after the whole tiles that AVX2 runs as 4-channel FMAs over groups of weight panels
        /// (<c>Res2Net.Runtime.Kernels.Gemm.MaxPixelsAcrossPanels</c>; a test checks it): 7×7 leaves 1, 14×14 leaves 4.
        /// </summary>
        public const int MaxPixelsAcrossPanels = 4;

        /// <summary>Floats the kernels read past a gathered matrix (partial tiles load whole vectors).</summary>
        public const int ReadSlack = 64;

        /// <summary>Floats readable past the direct conv's planes.</summary>
        public const int PlaneSlack = 128;

        public static ConvSchedule Schedule(ConvShape c, Isa isa)
        {
            bool single = c.MultiplyAdds < ParallelThreshold;
            if (isa.HasDirectConv && DirectFits(c)) return Direct(c, isa, single);
            return Gemm(c, isa, single);
        }

        /// <summary>
        /// The direct conv takes the 3×3s and the 7×7 with "same" padding, at stride 1, or at stride 2 without a summed input
        /// (the phases are built from one input); it has no residual or tail (1×1 convs never get here).
        /// </summary>
        private static bool DirectFits(ConvShape c) =>
            c.Kernel is 3 or 7 && c.Padding == c.Kernel / 2 && !c.Residual && c.TailChannel == 0 &&
            (c.Stride == 1
                ? c.OutHeight == c.Height && c.OutWidth == c.Width
                : c.Stride == 2 && !c.Summed && c.OutHeight == (c.Height - 1) / 2 + 1 && c.OutWidth == (c.Width - 1) / 2 + 1);

        private static ConvSchedule Direct(ConvShape c, Isa isa, bool single)
        {
            // Output pixels run along the planes' rows, border columns included (the last row's border is never needed).
            int rowWidth = c.Stride == 1 ? c.Width + 2 * c.Padding : c.OutWidth + c.Padding;
            int planeRows = c.Stride == 1 ? c.Height + 2 * c.Padding : c.OutHeight + c.Padding;
            int n = c.OutHeight * rowWidth - (rowWidth - c.OutWidth);
            int vectors = (n + isa.Lanes - 1) / isa.Lanes, tiles, five = 0;
            if (isa.TileVectors == 4)
            {
                // Tiles of 4 vectors, the first few of 5, so that no vector is computed in vain: 14×14 is 14 vectors, 5 + 5 + 4.
                tiles = Math.Max(1, vectors / 4);
                five = Math.Max(0, vectors - 4 * tiles);
                if (five > tiles)
                {
                    tiles = (vectors + 3) / 4;
                    five = 0;
                }
            }
            else
            {
                // AVX2: 12 of the 16 registers accumulate 4 channels × 3 vectors; the last tile computes up to 2 vectors in vain.
                tiles = (vectors + isa.TileVectors - 1) / isa.TileVectors;
            }
            var split = single ? ThreadSplit.Single
                : tiles >= 2 * SplitThreads || c.Panels < SplitThreads ? ThreadSplit.PixelTiles : ThreadSplit.WeightPanels;
            long planes = (long)c.InChannels * c.Stride * c.Stride * planeRows * rowWidth + PlaneSlack;
            string tileText = five == 0 ? $"{tiles} {(tiles == 1 ? "tile" : "tiles")} of {isa.TileVectors} vectors" : $"{tiles} tiles ({five} of 5 vectors, {tiles - five} of 4)";
            string from = c.Stride == 1 ? "zero-bordered planes" : "4 phase planes";
            return new ConvSchedule(isa, ConvAlgorithm.Direct, split, tiles, five, GemmInput.InPlace, PackB: false, GemmRemainder.None,
                SharedScratchFloats: 0, ThreadScratchFloats: planes,
                $"direct {c.Kernel}×{c.Kernel} s{c.Stride}{(c.Summed ? " on sp + spx[i]" : "")} from {from}, 4 channels × {tileText}, {SplitText(split)}");
        }

        private static ConvSchedule Gemm(ConvShape c, Isa isa, bool single)
        {
            int tiles = c.Pixels / isa.Tile;
            var split = single ? ThreadSplit.Single
                : tiles >= 2 * SplitThreads || c.Panels < SplitThreads ? ThreadSplit.PixelTiles : ThreadSplit.WeightPanels;
            bool inPlace = c.Kernel == 1 && c.Stride == 1 && c.Padding == 0 && !c.Summed;
            var input = inPlace ? GemmInput.InPlace : split == ThreadSplit.WeightPanels ? GemmInput.Gathered : GemmInput.GatheredPerThread;
            int panelsPerThread = split == ThreadSplit.WeightPanels ? c.Panels / SplitThreads : c.Panels;
            // A concat tail is joined while B is packed, so it must be packed.
            bool pack = panelsPerThread >= PackPanels || c.TailChannel > 0;
            var remainder = Remainder(c.Pixels, isa);
            // A tail read at a stride (a folded shortcut's input) is gathered into a matrix of the output's pixels first.
            bool stridedTail = c.TailChannel > 0 && c.TailStride > 1;
            long gathered = inPlace ? (stridedTail ? (long)(c.InChannels - c.TailChannel) * c.Pixels + ReadSlack : 0) : c.Depth * c.Pixels + ReadSlack;

            var parts = new List<string> { $"GEMM {RowBlock}×{isa.Tile} ({isa.TileVectors} vectors of {isa.Lanes})" };
            parts.Add(input switch
            {
                GemmInput.InPlace => c.TailChannel > 0
                    ? $"B in place from two buffers (channels {c.TailChannel}+ from the tail" +
                      (stridedTail ? $", gathered at stride {c.TailStride} {(split == ThreadSplit.WeightPanels ? "before the split" : "by each thread for its pixels")})" : ")")
                    : "B in place",
                GemmInput.Gathered => $"B gathered ({c.Kernel}×{c.Kernel} s{c.Stride}{(c.Summed ? ", sp + spx[i]" : "")}) before the split",
                _ => $"B gathered ({c.Kernel}×{c.Kernel} s{c.Stride}{(c.Summed ? ", sp + spx[i]" : "")}) by each thread for its pixels",
            });
            if (pack) parts.Add("packed");
            parts.Add($"{tiles} whole {(tiles == 1 ? "tile" : "tiles")}{RemainderText(remainder, c.Pixels % isa.Tile)}");
            parts.Add(SplitText(split));
            return new ConvSchedule(isa, ConvAlgorithm.Gemm, split, tiles, 0, input, pack, remainder,
                SharedScratchFloats: gathered, ThreadScratchFloats: pack ? PackedBFloats : 0, string.Join(", ", parts));
        }

        /// <summary>What the last tile of the pixels does (the threads' ranges end on whole tiles but the last).</summary>
        internal static GemmRemainder Remainder(int pixels, Isa isa)
        {
            int r = pixels % isa.Tile;
            if (r == 0) return GemmRemainder.None;
            if (isa.TileVectors == 4 && pixels > isa.Tile && r <= isa.Lanes) return GemmRemainder.FifthVector;
            if (isa.TileVectors == 4 && r == 3 * isa.Lanes + 1) return GemmRemainder.ThreeVectorsAndAPixel;
            if (isa.Lanes == 8 && r <= MaxPixelsAcrossPanels) return GemmRemainder.PixelsAcrossPanels;
            if (r > (isa.TileVectors - 1) * isa.Lanes) return GemmRemainder.NarrowTile;
            return GemmRemainder.Vectors;
        }

        private static string RemainderText(GemmRemainder r, int pixels) => r switch
        {
            GemmRemainder.None => "",
            GemmRemainder.FifthVector => " (the last with a fifth vector)",
            GemmRemainder.ThreeVectorsAndAPixel => " + 3 vectors and a pixel",
            GemmRemainder.NarrowTile => " + a narrower tile",
            GemmRemainder.PixelsAcrossPanels => $" + {pixels} {(pixels == 1 ? "pixel" : "pixels")} as 4-channel FMAs across panels",
            _ => " + single vectors",
        };

        private static string SplitText(ThreadSplit split) => split switch
        {
            ThreadSplit.Single => "1 thread",
            ThreadSplit.PixelTiles => "threads by pixel tiles",
            _ => "threads by weight panels",
        };
    }
}
