namespace Res2Net.Generator.Model
{
    internal enum OperandKind
    {
        /// <summary>The caller's input image.</summary>
        Input,

        /// <summary>A region of the activation arena.</summary>
        Arena,

        /// <summary>The caller's logits row.</summary>
        Logits,
    }

    /// <summary>
    /// Where a layer reads or writes. A split or a concat slot is the same buffer at a channel
    /// offset, so <see cref="Offset"/> already includes <c>channel * height * width</c>.
    /// </summary>
    internal sealed record Operand(OperandKind Kind, int Tensor, int Offset)
    {
        public static Operand Input { get; } = new(OperandKind.Input, -1, 0);

        public static Operand Logits { get; } = new(OperandKind.Logits, -2, 0);
    }
}
