#ifndef MOTCUA_WORKFLOW_ENGINE_CONTEXT_H_
#define MOTCUA_WORKFLOW_ENGINE_CONTEXT_H_

// What the engine's parts share (private to workflow/): the store and the
// one writer to it, the procedures, the clock, the event feed.

#include <functional>
#include <memory>

#include "storage/store.h"
#include "workflow/catalog.h"
#include "workflow/clock.h"
#include "workflow/command_runner.h"
#include "workflow/engine.h"
#include "workflow/event_bus.h"
#include "workflow/journal.h"
#include "workflow/page_token.h"
#include "workflow/work_calendar.h"

namespace motcua::workflow {

struct EngineContext {
  EngineContext(storage::Store* store, Clock* clock, const WorkCalendar* calendar,
                EngineOptions options, PageTokens page_tokens)
      : store(store),
        clock(clock),
        calendar(calendar),
        options(std::move(options)),
        page_tokens(std::move(page_tokens)) {}

  storage::Store* const store;
  Clock* const clock;
  const WorkCalendar* const calendar;
  const EngineOptions options;
  const PageTokens page_tokens;
  ProcedureCatalog catalog;
  EventBus bus;
  std::unique_ptr<Journal> journal;  // after bus: the journal publishes to it
  std::unique_ptr<CommandRunner> runner;
  // Wakes the document workers: a commit queued a document to issue.
  std::function<void()> outbox_ready;
};

}  // namespace motcua::workflow

#endif  // MOTCUA_WORKFLOW_ENGINE_CONTEXT_H_
