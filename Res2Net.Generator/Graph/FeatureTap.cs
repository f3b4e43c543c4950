namespace Res2Net.Generator.Graph
{
    /// <summary>A stage output that <c>extract_feat</c> returns: index 0 is the stem, 1–4 are layer1–layer4.</summary>
    internal sealed record FeatureTap(int Index, string Name, int Value);
}
