namespace Res2Net.Models;

/// <summary>Class names that ship with the models.</summary>
public static class ClassNames
{
    private static readonly Lazy<IReadOnlyList<string>> s_imageNet = new(() => Load("Res2Net.Models.imagenet1k_classes.txt"));

    /// <summary>The 1000 ImageNet-1k class names in label order, as mmpretrain's <c>IMAGENET_CATEGORIES</c>.</summary>
    public static IReadOnlyList<string> ImageNet1k => s_imageNet.Value;

    /// <summary>
    /// The names for a network's labels: the spec's <c>class_names</c>, else ImageNet-1k for 1000 classes,
    /// else <c>class_0</c>, <c>class_1</c>, ...
    /// </summary>
    public static IReadOnlyList<string> For(Res2Net.Runtime.Networks.NetworkInfo info) =>
        info.ClassNames ?? (info.NumClasses == ImageNet1k.Count
            ? ImageNet1k
            : Enumerable.Range(0, info.NumClasses).Select(i => $"class_{i}").ToArray());

    private static IReadOnlyList<string> Load(string resource)
    {
        using var stream = typeof(ClassNames).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded resource {resource} is missing from {typeof(ClassNames).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        var names = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0) names.Add(line);
        }
        return names;
    }
}
