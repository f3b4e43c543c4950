namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// What an op needs besides its inputs: a conv's or pool's geometry, a pool's convention, and the checkpoint key prefix
    /// of a layer with weights (<c>backbone.layer1.0.conv1</c>, <c>head.fc</c>).
    /// </summary>
    internal sealed record OpAttributes(int Kernel = 0, int Stride = 0, int Padding = 0, PoolKind Pool = PoolKind.Max, string? Key = null)
    {
        public static OpAttributes None { get; } = new();
    }
}
