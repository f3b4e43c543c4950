namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// A tensor of one image, <c>[Channels, Height, Width]</c> (<c>[Channels, 1, 1]</c> once pooled). Its id is its index in
    /// <see cref="NetworkGraph.Values"/>. <see cref="View"/>, when set, makes it a channel range of another value instead of a
    /// buffer of its own: what the split and concat passes produce.
    /// </summary>
    internal sealed record Value(int Id, int Channels, int Height, int Width, ViewOf? View = null)
    {
        public long Elements => (long)Channels * Height * Width;
    }

    /// <summary>Channels <c>[Channel, Channel + this value's channels)</c> of value <see cref="Of"/>.</summary>
    internal sealed record ViewOf(int Of, int Channel);
}
