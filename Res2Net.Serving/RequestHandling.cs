using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Res2Net.Runtime.IO;

namespace Res2Net.Serving;

/// <summary>
/// The middleware every request passes: turns a failure into a JSON error answer (<see cref="ServingError"/>, Kestrel's
/// 413 for a body over the limit, an unknown path or method), counts and times the request in the metrics, and logs it.
/// A failure ends one request; the server goes on serving.
/// </summary>
internal sealed class RequestHandling(ModelRepository models, ServingMetrics metrics, ILogger log, long bodyLimit)
{
    /// <summary>Where a client that left before its answer is counted (nginx's code for it: no answer was sent).</summary>
    public const int ClientClosedRequest = 499;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        long start = Stopwatch.GetTimestamp();
        var request = context.Request;
        int status;
        try
        {
            await next(context).ConfigureAwait(false);
            status = context.Response.StatusCode;
            if (!context.Response.HasStarted && status >= 400) await JsonResponse.WriteErrorAsync(context, status, Describe(context, status)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = ClientClosedRequest;
        }
        catch (Exception e)
        {
            (status, string message, TimeSpan? retryAfter) = Classify(e);
            if (status == StatusCodes.Status500InternalServerError) ServingLog.Failed(log, e, request.Method, Path(context));
            else if (status == StatusCodes.Status503ServiceUnavailable) ServingLog.Shed(log, request.Method, Path(context), status, message);
            else if (status == StatusCodes.Status504GatewayTimeout) ServingLog.Overloaded(log, request.Method, Path(context), status, message);
            else ServingLog.Refused(log, request.Method, Path(context), status, message);
            if (!context.Response.HasStarted)
            {
                try
                {
                    context.Response.Clear();
                    await JsonResponse.WriteErrorAsync(context, status, message, retryAfter).ConfigureAwait(false);
                }
                catch (Exception) when (context.RequestAborted.IsCancellationRequested)
                {
                    status = ClientClosedRequest;
                }
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        string endpoint = context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "none";
        string model = context.GetRouteValue("name") is string name && models.Contains(name) ? name : "";
        metrics.Requests.WithLabels(endpoint, model, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        metrics.RequestSeconds.WithLabels(endpoint, model).Observe(elapsed.TotalSeconds);
        ServingLog.Answered(log, request.Method, Path(context), status, elapsed.TotalMilliseconds);
    }

    private (int Status, string Message, TimeSpan? RetryAfter) Classify(Exception e) => e switch
    {
        ServingError s => (s.StatusCode, s.Message, s.RetryAfter),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (StatusCodes.Status413PayloadTooLarge, $"the request body is larger than the server's limit of {bodyLimit} bytes (--max-body-mb)", null),
        BadHttpRequestException b => (b.StatusCode, $"bad request: {b.Message}", null),
        InvalidDataException d => (StatusCodes.Status400BadRequest, $"the form cannot be read: {d.Message}", null),
        _ => (StatusCodes.Status500InternalServerError, "internal error; see the server's log", null),
    };

    /// <summary>The message for an error status the endpoints left without a body: routing's 404 and 405.</summary>
    private static string Describe(HttpContext context, int status) => status switch
    {
        StatusCodes.Status404NotFound => $"no endpoint at {context.Request.Method} {Path(context)}; the server answers GET /v2, /v2/health/live, /v2/health/ready, " +
                                         "/v2/models/{model}, /v2/models/{model}/ready, POST /v2/models/{model}/infer, POST /predictions/{model}, GET /ping and GET /metrics",
        StatusCodes.Status405MethodNotAllowed => $"{Path(context)} does not take {context.Request.Method}; it takes {context.Response.Headers.Allow}",
        _ => $"status {status}",
    };

    private static string Path(HttpContext context) => DisplayText.Shorten(context.Request.Path.Value ?? "/");
}
