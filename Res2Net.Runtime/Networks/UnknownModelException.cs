namespace Res2Net.Runtime.Networks;

/// <summary>A model name that no compiled network answers to; the message lists the ones that do.</summary>
public sealed class UnknownModelException : Exception
{
    public UnknownModelException(string name, IEnumerable<NetworkInfo> known)
        : base($"Unknown model '{name}'. Known models: {string.Join(", ", known.Select(k => k.Name))}.")
    {
        Name = name;
    }

    public string Name { get; }
}
