using Res2Net.Generator.Graph;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// The passes, in order, from the graph PyTorch runs to the graph a backend lowers. Folding and fusing come first (they
    /// remove ops between a conv and what it feeds), then the views (split, concat slots), so that what is left is the
    /// convs, pools and head with every fused step on them as data. The shortcut conv joins conv3 last, once conv3's input
    /// is the concat's slots.
    /// </summary>
    internal static class PassPipeline
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            graph = FoldBatchNorm.Run(graph);
            graph = FuseInputSum.Run(graph);
            graph = FuseEpilogue.Run(graph);
            graph = DropIdentityPools.Run(graph);
            graph = SplitsAsViews.Run(graph);
            graph = ConcatIntoSlots.Run(graph);
            graph = FuseShortcutConv.Run(graph);
            return graph;
        }
    }
}
